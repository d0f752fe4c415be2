// proc_bench: starts N extra sleeping processes, then times, in the same
// run, the processes table read through the stock sqlite3 shell against ps
// answering the same questions.
//
//   sudo build/bench/proc_bench [N=5000] [repetitions=5] [extension=the built one]
//
// (another build's libnetsql.so as the third argument compares before and
// after a change.)
// Each command is timed from fork to exit (start-up counts for everyone),
// its peak RSS read from wait4. Prints medians and ratios.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "run.h"

namespace {

using namespace netsql::bench;

// The columns processes had before cgroup, namespaces and the incident
// fields were added: what SELECT * cost then.
constexpr const char* kBefore =
    "pid, ppid, name, cmdline, exe, state, uid, user, gid, threads, rss_bytes, vsize_bytes, start_time, "
    "cpu_user_ms, cpu_system_ms, netns";

// A child that sleeps until killed; its parent waits for it to have started.
pid_t sleeper(int ready_fd) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid != 0) return pid;
  char ok = 1;
  if (write(ready_fd, &ok, 1) != 1) _exit(1);
  pause();
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n < 0 || n > 1000000 || reps < 1 || reps > 1000) {
    std::fprintf(stderr, "usage: proc_bench [N=5000 (0..1000000)] [repetitions=5 (1..1000)] [extension]\n");
    return 2;
  }
  std::string ext = argc > 3 ? argv[3] : NETSQL_EXTENSION_PATH;
  Spawner spawner;
  int pipefd[2];
  if (pipe(pipefd) != 0) die("pipe");
  std::vector<pid_t> pids;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) pids.push_back(sleeper(pipefd[1]));
  close(pipefd[1]);
  for (int ready = 0; ready < n; ++ready) {
    char c;
    if (read(pipefd[0], &c, 1) != 1) die("a sleeper failed to start");
  }
  double setup_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string load = "sqlite3 :memory: '.load " + ext.substr(0, ext.rfind('.')) + "' ";
  struct Case {
    const char* label;
    std::string cmd;
  };
  // The ratios below refer to these by position.
  std::vector<Case> cases = {
      {"netsql SELECT *", load + "'SELECT * FROM processes'"},
      {"netsql SELECT pid, name, cmdline", load + "'SELECT pid, name, cmdline FROM processes'"},
      {"netsql SELECT <the 16 columns of before>", load + "'SELECT " + kBefore + " FROM processes'"},
      {"netsql SELECT pid, name", load + "'SELECT pid, name FROM processes'"},
      {"ps -eo pid,comm,args", "ps -eo pid,comm,args"},
      {"ps -e", "ps -e"},
      {"netsql SELECT count(*)", load + "'SELECT count(*) FROM processes'"},
  };
  std::vector<std::vector<double>> ms(cases.size());
  std::vector<long> rss(cases.size());
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < cases.size(); ++i) {
      Run run = spawner.run(cases[i].cmd);
      ms[i].push_back(run.ms);
      rss[i] = std::max(rss[i], run.maxrss_kib);
    }
  std::printf("machine: %ld cores, %d extra sleeping processes (started in %.1f s), %d runs each\n",
              sysconf(_SC_NPROCESSORS_ONLN), n, setup_s, reps);
  std::printf("\n%-42s %12s %14s\n", "what (median of runs)", "time (ms)", "peak RSS (MiB)");
  for (size_t i = 0; i < cases.size(); ++i)
    std::printf("%-42s %12.2f %14.1f\n", cases[i].label, median(ms[i]), rss[i] / 1024.0);
  auto ratio = [&](const char* what, int a, int b) {
    std::printf("  %-50s %.3f\n", what, median(ms[a]) / median(ms[b]));
  };
  std::printf("\nratios (netsql / ps; below 1 means netsql is faster):\n");
  ratio("SELECT * vs ps -eo pid,comm,args", 0, 4);
  ratio("SELECT <16 columns of before> vs ps -eo pid,comm,args", 2, 4);
  ratio("SELECT pid, name, cmdline vs ps -eo pid,comm,args", 1, 4);
  ratio("SELECT pid, name vs ps -e", 3, 5);
  ratio("SELECT count(*) vs ps -e", 6, 5);
  for (pid_t p : pids) kill(p, SIGKILL);
  for (pid_t p : pids) waitpid(p, nullptr, 0);
  return 0;
}
