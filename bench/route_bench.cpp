// route_bench: N IPv4 routes (/24s via a gateway, as a BGP speaker installs
// them) in a private network namespace, then times, in the same run,
// netsql queries against ip and netstat answering the same questions, and
// prints the peak RSS of every command.
//
//   sudo build/bench/route_bench [N=100000] [repetitions=5]
//   NETSQL_BENCH_ONLY=text        only the cases whose label contains text
//   NETSQL_BENCH_BASELINE=lib.so  also time another build of the extension
//                                 (before/after in one run), and the netsql
//                                 shell beside it in its build directory
//
// Every command is timed from fork to exit (process start-up counts for
// everyone) and its peak RSS read from wait4; the fastest and the median
// run of each are printed, and ratios of the fastest runs.
#include <sched.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "run.h"

using namespace netsql::bench;

namespace {

// The i-th route's prefix: 11.0.0.0/24, 11.0.1.0/24, ... (16M fit).
std::string prefix(int i) {
  return std::to_string(11 + i / 65536) + "." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".0";
}

void setup_namespace(const Spawner& sp, int n) {
  std::ofstream batch("/tmp/route_bench.batch");
  batch << "link add rb0 type veth peer name rb1\nlink set rb0 up\nlink set rb1 up\n"
           "addr add 10.0.0.1/24 dev rb0\n";
  for (int i = 0; i < n; ++i) batch << "route add " << prefix(i) << "/24 via 10.0.0.2\n";
  batch.close();
  Run r = sp.run("ip -batch /tmp/route_bench.batch");
  std::remove("/tmp/route_bench.batch");
  std::printf("set up %d routes with ip -batch in %.1f s\n", n, r.ms / 1000);
}

struct Case {
  std::string label;
  std::string cmd;
};

// Milliseconds `sql` takes in this process, stepped to the end; median of `reps`.
double in_process_ms(sqlite3* db, const std::string& sql, int reps) {
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) die(sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW) {
    }
    sqlite3_finalize(st);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return median(ms);
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n < 2 || reps < 1) {
    std::fprintf(stderr, "usage: route_bench [N >= 2] [repetitions >= 1]\n");
    return 2;
  }
  if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET) (run as root)");
  Spawner sp;
  sp.run("ip link set lo up");
  setup_namespace(sp, n);

  // Every netsql program is timed from a copy: a file the linker has just
  // written sits in the page cache in small pages, and a process started
  // from it maps its code page by page. The netsql shell started ~10% slower
  // from the linker's file than from a copy of it (~10 page faults more),
  // so a fresh build compared with an older one, or with ip, measured that.
  char made[] = "/tmp/route_bench.XXXXXX";
  if (!mkdtemp(made)) die("mkdtemp");
  const std::string dir = made;
  auto copy = [&](const std::string& path, const std::string& sub) {
    std::string to = dir + "/" + sub + "/" + path.substr(path.rfind('/') + 1);
    sp.run("mkdir -p '" + dir + "/" + sub + "' && cp '" + path + "' '" + to + "'");
    return to;
  };
  std::string ext = copy(NETSQL_EXTENSION_PATH, "build");
  auto load = [](const std::string& so) { return "sqlite3 :memory: '.load " + so.substr(0, so.rfind('.')) + "' "; };
  std::string sq = load(ext);
  std::string netsql = copy(NETSQL_SHELL_PATH, "build");
  std::string mid = prefix(n / 2), host = mid.substr(0, mid.size() - 1) + "1";
  std::vector<Case> cases = {
      {"count(*), sqlite3 shell", sq + "'SELECT count(*) FROM routes'"},
      {"ip route show table all", "ip route show table all"},
      {"SELECT *, sqlite3 shell | wc -l", sq + "'SELECT * FROM routes' | wc -l"},
      {"ip route show table all | wc -l", "ip route show table all | wc -l"},
      {"ip -j route show table all | wc -c", "ip -j route show table all | wc -c"},
      {"netstat -rn | wc -l", "netstat -rn | wc -l"},
      {"SELECT *, netsql -m csv | wc -l", netsql + " -m csv 'SELECT * FROM routes' | wc -l"},
      {"netsql netstat -rn | wc -l", netsql + " netstat -rn | wc -l"},
      {"destination =, sqlite3 shell",
       sq + "\"SELECT * FROM routes WHERE destination = '" + mid + "' AND prefix_len = 24\""},
      {"ip route show table all exact", "ip route show table all exact " + mid + "/24"},
      {"route_get, sqlite3 shell", sq + "\"SELECT * FROM route_get('" + host + "')\""},
      {"ip route get", "ip route get " + host},
      {"route_get, netsql shell", netsql + " \"SELECT * FROM route_get('" + host + "')\""},
      // What bounds route_get through the sqlite3 shell: starting the
      // shell itself, without the extension.
      {"sqlite3 shell start-up (SELECT 1, no .load)", "sqlite3 :memory: 'SELECT 1'"},
  };
  if (const char* given = std::getenv("NETSQL_BENCH_BASELINE")) {
    std::string base_shell = std::string(given).substr(0, std::string(given).rfind('/') + 1) + "netsql";
    std::string base = copy(given, "baseline");
    cases.push_back({"count(*), sqlite3 shell (baseline)", load(base) + "'SELECT count(*) FROM routes'"});
    cases.push_back({"SELECT *, sqlite3 shell | wc -l (baseline)", load(base) + "'SELECT * FROM routes' | wc -l"});
    cases.push_back({"destination =, sqlite3 shell (baseline)",
                     load(base) + "\"SELECT * FROM routes WHERE destination = '" + mid + "' AND prefix_len = 24\""});
    if (access(base_shell.c_str(), X_OK) == 0)
      cases.push_back({"route_get, netsql shell (baseline)", copy(base_shell, "baseline") + " \"SELECT * FROM route_get('" + host + "')\""});
  }
  const char* only = std::getenv("NETSQL_BENCH_ONLY");
  std::string load_before = load_average();
  std::vector<Runs> runs(cases.size());
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < cases.size(); ++i) {
      if (only && !std::strstr(cases[i].label.c_str(), only)) continue;
      runs[i].add(sp.run(cases[i].cmd));
    }

  std::printf("%s before the runs, %s after; %d runs each\n", load_before.c_str(), load_average().c_str(), reps);
  std::printf("\n%-42s %20s %20s %14s\n", "what", "time (ms) best/med", "CPU (ms) best/med", "peak RSS (MiB)");
  for (size_t i = 0; i < cases.size(); ++i) {
    if (runs[i].empty()) continue;
    std::printf("%-42s %9.2f %10.2f %9.2f %10.2f %14.1f\n", cases[i].label.c_str(), runs[i].best_ms(),
                runs[i].median_ms(), runs[i].best_cpu(), runs[i].median_cpu(), runs[i].maxrss_kib / 1024.0);
  }
  auto find = [&](const std::string& label) {
    for (size_t i = 0; i < cases.size(); ++i)
      if (cases[i].label == label) return static_cast<int>(i);
    return -1;
  };
  auto ratio = [&](const std::string& a, const std::string& b) {
    int x = find(a), y = find(b);
    if (x < 0 || y < 0 || runs[x].empty() || runs[y].empty()) return;
    std::printf("  %-78s %6.3f %6.3f\n", (a + " / " + b).c_str(), runs[x].best_ms() / runs[y].best_ms(),
                runs[x].best_cpu() / std::max(runs[y].best_cpu(), 0.001));
  };
  // The lookups alone, without a process start and an extension load.
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, ext.c_str(), nullptr, nullptr) != SQLITE_OK) die("load " + ext);
  std::printf("%-46s %12.3f\n", "count(*), in process", in_process_ms(db, "SELECT count(*) FROM routes", reps));
  std::printf("%-46s %12.3f\n", "route_get, in process",
              in_process_ms(db, "SELECT * FROM route_get('" + host + "')", 100));
  sqlite3_close(db);

  // CPU time (user + system of the command and its children, the whole
  // pipeline) is steadier than wall time on a busy machine.
  std::printf("\nratios of the fastest runs (time, CPU time; below 1 means the first is faster):\n");
  ratio("count(*), sqlite3 shell", "ip route show table all");
  ratio("SELECT *, sqlite3 shell | wc -l", "ip route show table all | wc -l");
  ratio("SELECT *, sqlite3 shell | wc -l", "ip -j route show table all | wc -c");
  ratio("SELECT *, sqlite3 shell | wc -l", "netstat -rn | wc -l");
  ratio("SELECT *, netsql -m csv | wc -l", "ip route show table all | wc -l");
  ratio("netsql netstat -rn | wc -l", "netstat -rn | wc -l");
  ratio("destination =, sqlite3 shell", "ip route show table all exact");
  ratio("route_get, sqlite3 shell", "ip route get");
  ratio("route_get, netsql shell", "ip route get");
  ratio("sqlite3 shell start-up (SELECT 1, no .load)", "ip route get");
  ratio("count(*), sqlite3 shell", "count(*), sqlite3 shell (baseline)");
  ratio("SELECT *, sqlite3 shell | wc -l", "SELECT *, sqlite3 shell | wc -l (baseline)");
  ratio("destination =, sqlite3 shell", "destination =, sqlite3 shell (baseline)");
  ratio("route_get, netsql shell", "route_get, netsql shell (baseline)");
  ratio("route_get, netsql shell (baseline)", "ip route get");
  sp.run("rm -r '" + dir + "'");
  return 0;
}
