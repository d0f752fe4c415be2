#include "signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "session.h"

namespace netsql::shell {

namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) {
  g_stop = 1;
  interrupt_current();
}

}  // namespace

void catch_stop_signals(StopOn which) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // Reading input: no SA_RESTART, so that a blocking read returns with
  // EINTR and the input ends. --watch reads nothing and polls the flag:
  // SA_RESTART, so that a write blocked on a full pipe is not cut short
  // (stdio would drop the rest of the line).
  sa.sa_flags = which == StopOn::InterruptAndTerminate ? SA_RESTART : 0;
  for (int sig : {SIGINT, SIGTERM}) {
    if (sig == SIGTERM && which != StopOn::InterruptAndTerminate) continue;
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // ignored by who started us (a background job): stays so
    sigaction(sig, &sa, nullptr);
  }
}

bool stop_requested() { return g_stop != 0; }

void clear_stop() { g_stop = 0; }

void install_thread_wakeup() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGURG, &sa, nullptr);
  });
}

void wake_thread(pthread_t thread) { pthread_kill(thread, SIGURG); }

SignalFd::SignalFd(std::initializer_list<int> extra) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  for (int sig : extra) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd_ < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
}

SignalFd::~SignalFd() { close(fd_); }

int SignalFd::read() {
  signalfd_siginfo si{};
  if (::read(fd_, &si, sizeof si) != sizeof si) return 0;
  return static_cast<int>(si.ssi_signo);
}

}  // namespace netsql::shell
