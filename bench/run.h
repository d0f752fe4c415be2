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

}  // namespace netsql::bench
