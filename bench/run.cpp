#include "run.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace netsql::bench {

void die(const std::string& what) {
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(), std::strerror(errno));
  std::exit(1);
}

namespace {

Run timed_run(const std::string& cmd) {
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::fprintf(stderr, "warning: '%s' failed\n", cmd.c_str());
  auto to_ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return {ms, ru.ru_maxrss, to_ms(ru.ru_utime) + to_ms(ru.ru_stime)};
}

}  // namespace

Spawner::Spawner() {
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) die("pipe");
  if (fork() == 0) {
    close(down[1]);
    close(up[0]);
    for (;;) {
      uint32_t len = 0;
      if (read(down[0], &len, sizeof len) != sizeof len) _exit(0);
      std::string cmd(len, '\0');
      if (read(down[0], cmd.data(), len) != static_cast<ssize_t>(len)) _exit(1);
      Run r = timed_run(cmd);
      if (write(up[1], &r, sizeof r) != sizeof r) _exit(1);
    }
  }
  close(down[0]);
  close(up[1]);
  to_ = down[1];
  from_ = up[0];
}

Run Spawner::run(const std::string& cmd) const {
  uint32_t len = static_cast<uint32_t>(cmd.size());
  Run r{};
  if (write(to_, &len, sizeof len) != sizeof len || write(to_, cmd.data(), len) != static_cast<ssize_t>(len) ||
      read(from_, &r, sizeof r) != sizeof r)
    die("spawner");
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string load_average() {
  char buf[64] = {};
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "load average unknown";
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string text(buf, n);
  size_t third = text.find(' ', text.find(' ', text.find(' ') + 1) + 1);
  return "load average " + text.substr(0, third);
}

void Runs::add(const Run& r) {
  ms.push_back(r.ms);
  cpu_ms.push_back(r.cpu_ms);
  maxrss_kib = std::max(maxrss_kib, r.maxrss_kib);
}

double Runs::best_ms() const { return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()); }
double Runs::best_cpu() const { return cpu_ms.empty() ? 0 : *std::min_element(cpu_ms.begin(), cpu_ms.end()); }

}  // namespace netsql::bench
