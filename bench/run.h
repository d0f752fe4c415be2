// What the benchmarks share: running a shell command from a small helper
// process, timed from fork to exit, with its peak RSS; medians.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace netsql::bench {

using Clock = std::chrono::steady_clock;

// Prints "<program>: <what>: <strerror(errno)>" and exits 1.
[[noreturn]] void die(const std::string& what);

struct Run {
  double ms;
  long maxrss_kib;  // the command's and its waited-for children's peak
  double cpu_ms;    // their user + system CPU time: steadier than `ms` on a busy machine
};

// Commands run from a helper process forked at start-up, before the
// benchmark grows (sqlite, the kernel tables it fills): a forked child's
// peak RSS counts the memory it was forked with, so forking from the
// benchmark itself would inflate every command's figure by its own.
class Spawner {
 public:
  Spawner();
  // Runs `sh -c cmd` with stdout to /dev/null; warns if it fails.
  Run run(const std::string& cmd) const;

 private:
  int to_ = -1, from_ = -1;
};

double median(std::vector<double> v);

// "load average 1.23 0.98 0.75" (/proc/loadavg): printed before and after
// the runs, as the figures depend on what else the machine was doing.
std::string load_average();

// Every run of one command. On a machine shared with other work the
// fastest run is the one least disturbed, so ratios compare the fastest
// runs (best_*); medians show the spread.
struct Runs {
  std::vector<double> ms, cpu_ms;
  long maxrss_kib = 0;
  void add(const Run& r);
  bool empty() const { return ms.empty(); }
  double best_ms() const;
  double best_cpu() const;
  double median_ms() const { return median(ms); }
  double median_cpu() const { return median(cpu_ms); }
};

}  // namespace netsql::bench
