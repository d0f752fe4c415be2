// proc_bench: starts N extra sleeping processes, then times, in the same
// run, the processes table read through the stock sqlite3 shell against ps
// answering the same questions.
//
//   sudo build/bench/proc_bench [N=5000] [repetitions=5]
//   NETSQL_BENCH_BASELINE=lib.so  also time another build of the extension
//                                 (before/after, in the same run)
// Each command is timed from fork to exit (start-up counts for everyone),
// its peak RSS read from wait4. Prints the fastest and the median run of
// each, and ratios of the fastest runs.
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
// SELECT * and the hidden columns too (cwd, root, ns/*): every answer, what
// SELECT * returned before those columns were hidden.
constexpr const char* kEvery =
    "*, cwd, root, mnt_ns, pid_ns, user_ns, uts_ns, ipc_ns, cgroup_ns, net_ns";

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
    std::fprintf(stderr, "usage: proc_bench [N=5000 (0..1000000)] [repetitions=5 (1..1000)]\n");
    return 2;
  }
  std::string ext = NETSQL_EXTENSION_PATH;
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
  auto load = [](const std::string& so) { return "sqlite3 :memory: '.load " + so.substr(0, so.rfind('.')) + "' "; };
  struct Case {
    std::string label, cmd;
  };
  std::vector<Case> cases;
  auto queries = [&](const std::string& so, const std::string& suffix) {
    cases.push_back({"SELECT *" + suffix, load(so) + "'SELECT * FROM processes'"});
    cases.push_back({"SELECT *, hidden columns too" + suffix, load(so) + "'SELECT " + kEvery + " FROM processes'"});
    cases.push_back({"SELECT <16 columns of before>" + suffix, load(so) + "'SELECT " + kBefore + " FROM processes'"});
    cases.push_back({"SELECT pid, name, cmdline" + suffix, load(so) + "'SELECT pid, name, cmdline FROM processes'"});
    cases.push_back({"SELECT pid, name" + suffix, load(so) + "'SELECT pid, name FROM processes'"});
    cases.push_back({"SELECT count(*)" + suffix, load(so) + "'SELECT count(*) FROM processes'"});
  };
  queries(ext, "");
  cases.push_back({"ps -eo pid,comm,args", "ps -eo pid,comm,args"});
  cases.push_back({"ps -e", "ps -e"});
  const char* base = std::getenv("NETSQL_BENCH_BASELINE");
  if (base) queries(base, " (baseline)");
  std::string load_before = load_average();
  std::vector<Runs> runs(cases.size());
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < cases.size(); ++i) runs[i].add(spawner.run(cases[i].cmd));
  std::printf("machine: %ld cores, %d extra sleeping processes (started in %.1f s), %d runs each\n",
              sysconf(_SC_NPROCESSORS_ONLN), n, setup_s, reps);
  std::printf("%s before the runs, %s after\n", load_before.c_str(), load_average().c_str());
  std::printf("\n%-42s %20s %20s %14s\n", "what, sqlite3 shell", "time (ms) best/med", "CPU (ms) best/med",
              "peak RSS (MiB)");
  for (size_t i = 0; i < cases.size(); ++i)
    std::printf("%-42s %9.2f %10.2f %9.2f %10.2f %14.1f\n", cases[i].label.c_str(), runs[i].best_ms(),
                runs[i].median_ms(), runs[i].best_cpu(), runs[i].median_cpu(), runs[i].maxrss_kib / 1024.0);
  auto ratio = [&](const std::string& a, const std::string& b) {
    auto at = [&](const std::string& label) -> const Runs* {
      for (size_t i = 0; i < cases.size(); ++i)
        if (cases[i].label == label) return &runs[i];
      return nullptr;
    };
    const Runs *x = at(a), *y = at(b);
    if (x && y && y->best_ms() > 0 && y->best_cpu() > 0)
      std::printf("  %-50s vs %-22s %.3f %.3f\n", a.c_str(), b.c_str(), x->best_ms() / y->best_ms(),
                  x->best_cpu() / y->best_cpu());
  };
  // CPU time (user + system of the command and its children) is steadier
  // than wall time on a busy machine.
  std::printf("\nratios of the fastest runs (time, CPU time; below 1 means the first is faster):\n");
  for (const char* q : {"SELECT *", "SELECT *, hidden columns too", "SELECT <16 columns of before>", "SELECT pid, name, cmdline"})
    ratio(q, "ps -eo pid,comm,args");
  for (const char* q : {"SELECT pid, name", "SELECT count(*)"}) ratio(q, "ps -e");
  if (base)
    for (const char* q : {"SELECT *", "SELECT *, hidden columns too", "SELECT <16 columns of before>",
                          "SELECT pid, name, cmdline", "SELECT pid, name"})
      ratio(q, std::string(q) + " (baseline)");
  for (pid_t p : pids) kill(p, SIGKILL);
  for (pid_t p : pids) waitpid(p, nullptr, 0);
  return 0;
}
