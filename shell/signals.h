// The shell's signals, set up here and nowhere else.
//
// Stop: SIGINT (and SIGTERM where asked) set the shell's one stop flag and
// interrupt the statement the current session runs (sqlite3_interrupt).
// Reading input the handlers go without SA_RESTART, so that a blocking
// read (the REPL's line, a script on standard input) returns with EINTR;
// --watch takes them with SA_RESTART (a write to a full pipe completes).
// A signal its starter ignores (a background job's SIGINT) stays ignored.
//
// Wake-up: SIGURG, otherwise ignored, gets a handler that does nothing;
// sent to a thread (wake_thread) it cuts a blocking wait short (EINTR).
// The metrics deadline and the stream collector send it after
// sqlite3_interrupt, so that a scan waiting inside a virtual table
// (closed_sockets) sees the interrupt at once rather than at its next
// 100 ms check.
//
// The long-running subcommands (schedule, serve) take their signals
// through a SignalFd instead, read between runs of their poll loop.
#pragma once

#include <pthread.h>

#include <initializer_list>

namespace netsql::shell {

enum class StopOn {
  Interrupt,               // SIGINT (Ctrl-C) only: the REPL, one-shot runs and scripts
  InterruptAndTerminate,  // SIGINT and SIGTERM: --watch
};
void catch_stop_signals(StopOn which);
// True once a stop signal came (since clear_stop()).
bool stop_requested();
// The REPL, before each prompt: a Ctrl-C handled is forgotten.
void clear_stop();

// Installs the SIGURG handler once per process; safe from any thread.
void install_thread_wakeup();
// Sends SIGURG to `thread` (install_thread_wakeup() first).
void wake_thread(pthread_t thread);

// SIGINT, SIGTERM and `extra` blocked in the calling thread (and the
// threads it starts afterwards) and readable from fd(), which poll() can
// wait for. Throws std::runtime_error("signalfd: ...").
class SignalFd {
 public:
  explicit SignalFd(std::initializer_list<int> extra = {});
  ~SignalFd();
  SignalFd(const SignalFd&) = delete;
  SignalFd& operator=(const SignalFd&) = delete;
  int fd() const { return fd_; }
  // The next pending signal's number; 0 when none is pending.
  int read();

 private:
  int fd_ = -1;
};

}  // namespace netsql::shell
