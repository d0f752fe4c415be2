// tcp_bench: creates N TCP sockets (listeners plus established loopback
// pairs) in a private network namespace, then times, in the same run,
// netsql queries against ss and netstat answering the same questions.
//
//   sudo build/bench/tcp_bench [N=100000] [repetitions=5]
//   NETSQL_BENCH_ONLY=pid sudo build/bench/tcp_bench 1000000 3   (only matching cases)
//   NETSQL_BENCH_HOLD=1 build/bench/tcp_bench 100000 < fifo   (keeps the sockets until
//       stdin ends, for profiling by hand: nsenter -t <printed pid> -n perf ...)
//   NETSQL_BENCH_ONLY=[shell] sudo build/bench/tcp_bench   (the netsql shell against the sqlite3 shell)
//
// The sockets are spread over worker processes (the fd limit here is 20,000
// per process). Each command is timed from fork to exit (so process start-up
// counts for everyone), its peak RSS read from wait4; the in-process netsql
// timings exclude start-up. Prints the fastest and the median run of each
// (CPU time: user + system, from wait4, steadier on a busy machine) and
// ratios of the fastest runs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "run.h"

namespace {

using namespace netsql::bench;

void setup_namespace() {
  if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET) (run as root)");
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  ioctl(s, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("lo up");
  close(s);
  // Ephemeral ports above the listeners' (10000 + 200 per worker).
  std::ofstream("/proc/sys/net/ipv4/ip_local_port_range") << "30000 65535";
  std::ofstream("/proc/sys/net/core/somaxconn") << "4096";
}

int listener(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4096) != 0) die("listen");
  return fd;
}

// A worker holds `pairs` established connections (2 sockets each) to its
// own listener, and `extra` idle listeners, until it is killed.
pid_t spawn_worker(uint16_t port, int pairs, int extra, int ready_fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  int l = listener(port);
  for (int i = 0; i < extra; ++i) listener(static_cast<uint16_t>(port + 1 + i));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < pairs; ++i) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    // Clients come from 50 source addresses, 127.1.0.1 .. 127.50.0.1, so
    // that one /16 holds 2% of the clients (1% of all sockets).
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl((127u << 24) | ((1u + static_cast<unsigned>(i % 50)) << 16) | 1u);
    if (c < 0 || bind(c, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) die("bind");
    if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
    if (accept(l, nullptr, nullptr) < 0) die("accept");
  }
  char ok = 1;
  if (write(ready_fd, &ok, 1) != 1) _exit(1);
  pause();
  _exit(0);
}

long long query_count(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    std::exit(1);
  }
  long long n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string ext = NETSQL_EXTENSION_PATH;
  setup_namespace();
  Spawner spawner;

  // 8,000 pairs (16,000 fds) per worker at most; 100 listeners in all.
  // Every worker's listener port gets at most 8,000 connections, well
  // inside the ephemeral range.
  const int kListeners = 100, kPairsPerWorker = 8000;
  int pairs = std::max(0, (n - kListeners) / 2);
  int workers = std::max(1, (pairs + kPairsPerWorker - 1) / kPairsPerWorker);
  int pipefd[2];
  if (pipe(pipefd) != 0) die("pipe");
  std::vector<pid_t> pids;
  int listeners_left = kListeners;
  auto t0 = Clock::now();
  for (int w = 0; w < workers; ++w) {
    int p = std::min(kPairsPerWorker, pairs - w * kPairsPerWorker);
    int extra = w == workers - 1 ? listeners_left - 1 : std::min(listeners_left - 1, 1);
    listeners_left -= 1 + extra;
    pids.push_back(spawn_worker(static_cast<uint16_t>(10000 + w * 200), std::max(p, 0), extra, pipefd[1]));
  }
  close(pipefd[1]);
  // Wait for every worker to report ready; if one dies instead, say so
  // (and take the others down) rather than wait forever.
  for (size_t ready = 0; ready < pids.size();) {
    pollfd p{pipefd[0], POLLIN, 0};
    if (poll(&p, 1, 1000) > 0) {
      char c;
      if (read(pipefd[0], &c, 1) != 1) break;
      ++ready;
      continue;
    }
    int status = 0;
    if (waitpid(-1, &status, WNOHANG) > 0) {
      for (pid_t w : pids) kill(w, SIGKILL);
      std::fprintf(stderr, "tcp_bench: a worker failed while creating sockets\n");
      return 1;
    }
  }
  double setup_s = std::chrono::duration<double>(Clock::now() - t0).count();

  if (std::getenv("NETSQL_BENCH_HOLD")) {
    std::printf("holding the sockets in the network namespace of pid %d until stdin ends\n", getpid());
    std::fflush(stdout);
    for (char c; read(0, &c, 1) > 0;) {
    }
    for (pid_t p : pids) kill(p, SIGKILL);
    for (pid_t p : pids) waitpid(p, nullptr, 0);
    return 0;
  }
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_enable_load_extension(db, 1);
  char* err = nullptr;
  if (sqlite3_load_extension(db, ext.c_str(), nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "load %s: %s\n", ext.c_str(), err);
    return 1;
  }
  long long total = query_count(db, "SELECT count(*) FROM tcp_sockets");
  long long listening = query_count(db, "SELECT count(*) FROM tcp_sockets WHERE state = 'LISTEN'");
  std::printf("machine: %ld cores, kernel sockets: %lld TCP (%lld listening) in %d workers, set up in %.1f s\n",
              sysconf(_SC_NPROCESSORS_ONLN), total, listening, workers, setup_s);

  struct Case {
    const char* label;
    std::string cmd;  // empty: in-process query
    const char* sql;
    int max_n;        // skipped above this many sockets (quadratic tools)
  };
  std::string load = "sqlite3 :memory: '.load " + ext.substr(0, ext.rfind('.')) + "' ";
  const int kAny = 1 << 30, kSlow = 200000;
  std::vector<Case> cases = {
      {"netsql count(*) (in process)", "", "SELECT count(*) FROM tcp_sockets", kAny},
      {"netsql count(*) (sqlite3 shell)", load + "'SELECT count(*) FROM tcp_sockets'", nullptr, kAny},
      {"ss -tan | wc -l", "ss -tan | wc -l", nullptr, kAny},
      {"netstat -tan | wc -l", "netstat -tan | wc -l", nullptr, kSlow},
      {"netsql state = 'LISTEN' (in process)", "", "SELECT count(*) FROM tcp_sockets WHERE state = 'LISTEN'", kAny},
      {"netsql state = 'LISTEN' (sqlite3 shell)",
       load + "\"SELECT count(*) FROM tcp_sockets WHERE state = 'LISTEN'\"", nullptr, kAny},
      {"ss -tln | wc -l", "ss -tln | wc -l", nullptr, kAny},
      {"netsql local_port = 10000 (in process)", "", "SELECT count(*) FROM tcp_sockets WHERE local_port = 10000", kAny},
      {"ss -tan sport = :10000 | wc -l", "ss -tan sport = :10000 | wc -l", nullptr, kAny},
      {"netsql rtt_us, cwnd (in process)", "", "SELECT count(rtt_us), sum(cwnd) FROM tcp_sockets", kAny},
      {"ss -tani | wc -l", "ss -tani | wc -l", nullptr, kSlow},
      {"netsql pid, process (in process)", "", "SELECT count(pid) + count(process) FROM tcp_sockets", kAny},
      {"netsql pid, process (sqlite3 shell)",
       load + "'SELECT local_port, pid, process FROM tcp_sockets'", nullptr, kAny},
      {"ss -tanp | wc -l", "ss -tanp | wc -l", nullptr, kSlow},
      {"netsql socket_owners scan (in process)", "", "SELECT count(*) FROM socket_owners", kAny},
      {"netstat -tanp | wc -l", "netstat -tanp | wc -l", nullptr, kSlow},
  };
  // Range and subnet filters (issue 12), each matching about 1% of the
  // sockets: client ports 40000..40700 (of 30000..65535), peers in 127.7/16.
  const char* kRange = "SELECT state, local_address, local_port, remote_address, remote_port FROM tcp_sockets "
                       "WHERE local_port BETWEEN 40000 AND 40700";
  const char* kSubnet = "SELECT state, local_address, local_port, remote_address, remote_port FROM tcp_sockets "
                        "WHERE in_subnet(remote_address, '127.7.0.0/16')";
  size_t filters_first = cases.size();
  cases.insert(cases.end(), {
      {"[filter] port range (in process)", "", "SELECT count(*) FROM tcp_sockets WHERE local_port BETWEEN 40000 AND 40700", kAny},
      {"[filter] port range rows (sqlite3 shell)", load + "\"" + kRange + "\"", nullptr, kAny},
      {"[filter] ss -tan sport range | wc -l", "ss -tan 'sport >= :40000 and sport <= :40700' | wc -l", nullptr, kAny},
      {"[filter] subnet (in process)", "", "SELECT count(*) FROM tcp_sockets WHERE in_subnet(remote_address, '127.7.0.0/16')", kAny},
      {"[filter] subnet rows (sqlite3 shell)", load + "\"" + kSubnet + "\"", nullptr, kAny},
      {"[filter] ss -tan dst 127.7.0.0/16 | wc -l", "ss -tan dst 127.7.0.0/16 | wc -l", nullptr, kAny},
  });
  std::printf("filters match: port range %lld sockets, subnet %lld sockets\n",
              query_count(db, cases[filters_first].sql), query_count(db, cases[filters_first + 3].sql));
  // Owner paths (issue 17): whole rows printed by the sqlite3 shell, the
  // owner scan forced through BPF or /proc, against ss answering the same.
  const char* kOwnerQueries[][2] = {
      {"SELECT *", "SELECT * FROM tcp_sockets"},
      {"SELECT * LISTEN", "SELECT * FROM tcp_sockets WHERE state = 'LISTEN'"},
      {"port, pid, process", "SELECT local_port, pid, process FROM tcp_sockets"},
  };
  size_t owners_first = cases.size();
  for (const char* path : {"bpf", "proc"})
    for (auto& q : kOwnerQueries)
      cases.push_back({strdup((std::string("[owners] ") + path + " " + q[0]).c_str()),
                       "NETSQL_OWNERS=" + std::string(path) + " " + load + "\"" + q[1] + "\"", nullptr, kAny});
  for (const char* cmd : {"ss -tanp", "ss -tan", "ss -tan state listening", "ss -tani", "ss -tanp state listening"})
    cases.push_back({strdup((std::string("[owners] ") + cmd).c_str()), cmd, nullptr, kAny});
  // The netsql shell against the stock sqlite3 shell (with the extension
  // loaded) printing every row and column, and its netstat front end
  // against netstat: time and peak RSS of each, in csv and json.
  size_t shell_first = cases.size();
  std::string netsql = NETSQL_SHELL_PATH;
  auto sqlite3_shell = [&](const char* format) {
    return std::string("sqlite3 -header -") + format + " :memory: '.load " + ext.substr(0, ext.rfind('.')) +
           "' 'SELECT * FROM tcp_sockets'";
  };
  // Each format both shells have, in pairs (sqlite3's option, netsql's
  // -m), then netsql's own; every one of them for the peak RSS.
  const char* kFormats[][2] = {{"csv", "csv"},         {"json", "json"},         {"tabs", "tsv"}, {"line", "line"},
                               {"markdown", "markdown"}, {"table", "table"}, {"box", "box"}};
  for (auto& f : kFormats) {
    cases.push_back({strdup(("[shell] sqlite3 -" + std::string(f[0]) + " SELECT *").c_str()), sqlite3_shell(f[0]),
                     nullptr, kAny});
    cases.push_back({strdup(("[shell] netsql -m " + std::string(f[1]) + " SELECT *").c_str()),
                     netsql + " -m " + f[1] + " 'SELECT * FROM tcp_sockets'", nullptr, kAny});
  }
  size_t shell_pairs_end = cases.size();
  cases.push_back({"[shell] netsql -m jsonl SELECT *", netsql + " -m jsonl 'SELECT * FROM tcp_sockets'", nullptr, kAny});
  cases.push_back({"[shell] netsql netstat -tan", netsql + " netstat -tan", nullptr, kAny});
  cases.push_back({"[shell] netstat -tan", "netstat -tan", nullptr, kSlow});
  // NETSQL_BENCH_ONLY=text runs only the cases whose label contains it.
  const char* only = std::getenv("NETSQL_BENCH_ONLY");
  std::string load_before = load_average();
  std::vector<Runs> runs(cases.size());
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      if (total > c.max_n || (only && !std::strstr(c.label, only))) continue;
      if (c.cmd.empty()) {
        auto t = Clock::now();
        query_count(db, c.sql);
        runs[i].add({std::chrono::duration<double, std::milli>(Clock::now() - t).count(), 0, 0});
      } else {
        runs[i].add(spawner.run(c.cmd));
      }
    }
  }
  std::printf("%s before the runs, %s after; %d runs each\n", load_before.c_str(), load_average().c_str(), reps);
  std::printf("\n%-42s %20s %20s %14s\n", "what", "time (ms) best/med", "CPU (ms) best/med", "peak RSS (MiB)");
  for (size_t i = 0; i < cases.size(); ++i) {
    const Runs& r = runs[i];
    if (r.empty()) std::printf("%-42s %20s\n", cases[i].label, "skipped");
    else if (r.maxrss_kib)
      std::printf("%-42s %9.2f %10.2f %9.2f %10.2f %14.1f\n", cases[i].label, r.best_ms(), r.median_ms(), r.best_cpu(),
                  r.median_cpu(), r.maxrss_kib / 1024.0);
    else std::printf("%-42s %9.2f %10.2f %20s %14s\n", cases[i].label, r.best_ms(), r.median_ms(), "(in process)", "-");
  }
  auto ratio = [&](const char* what, int a, int b) {
    if (runs[a].empty() || runs[b].empty()) return;
    std::printf("  %-44s %.3f\n", what, runs[a].best_ms() / runs[b].best_ms());
  };
  std::printf("\nratios of the fastest runs (netsql / other; below 1 means netsql is faster):\n");
  ratio("full dump, sqlite3 shell vs ss -tan", 1, 2);
  ratio("full dump, sqlite3 shell vs netstat -tan", 1, 3);
  ratio("full dump, in process vs ss -tan", 0, 2);
  ratio("LISTEN, sqlite3 shell vs ss -tln", 5, 6);
  ratio("port filter, in process vs ss sport", 7, 8);
  ratio("tcp_info, in process vs ss -tani", 9, 10);
  ratio("owners, sqlite3 shell vs ss -tanp", 12, 13);
  ratio("owners, sqlite3 shell vs netstat -tanp", 12, 15);
  int f = static_cast<int>(filters_first);
  ratio("port range, sqlite3 shell rows vs ss sport range", f + 1, f + 2);
  ratio("port range, in process vs ss sport range", f, f + 2);
  ratio("subnet, sqlite3 shell rows vs ss dst", f + 4, f + 5);
  ratio("subnet, in process vs ss dst", f + 3, f + 5);
  // [owners]: bpf 0-2, proc 3-5, then ss -tanp, -tan, state listening,
  // -tani, -tanp state listening. Wall time and CPU time (user + system of
  // the command and its children, steadier when the machine is busy).
  int o = static_cast<int>(owners_first);
  std::printf("\nowners (wall ms / CPU ms, fastest runs):\n");
  for (size_t i = owners_first; i < shell_first; ++i)
    if (!runs[i].empty()) std::printf("  %-40s %10.2f %10.2f\n", cases[i].label, runs[i].best_ms(), runs[i].best_cpu());
  auto both = [&](const std::string& what, int a, int b) {
    if (runs[a].empty() || runs[b].empty()) return;
    std::printf("  %-52s wall %7.3f  cpu %7.3f\n", what.c_str(), runs[a].best_ms() / runs[b].best_ms(),
                runs[a].best_cpu() / std::max(runs[b].best_cpu(), 0.001));
  };
  std::printf("owner ratios (netsql / other):\n");
  for (int path = 0; path < 2; ++path) {
    std::string p = path == 0 ? "bpf " : "proc ";
    both(p + "SELECT * vs ss -tani", o + 3 * path, o + 9);
    both(p + "SELECT * vs ss -tanp", o + 3 * path, o + 6);
    both(p + "SELECT * LISTEN vs ss -tan state listening", o + 3 * path + 1, o + 8);
    both(p + "SELECT * LISTEN vs ss -tanp state listening", o + 3 * path + 1, o + 10);
    both(p + "port, pid, process vs ss -tanp", o + 3 * path + 2, o + 6);
    both(p + "port, pid, process vs ss -tan", o + 3 * path + 2, o + 7);
  }
  both("bpf / proc, SELECT *", o, o + 3);
  both("bpf / proc, SELECT * LISTEN", o + 1, o + 4);
  both("bpf / proc, port, pid, process", o + 2, o + 5);
  // [shell]: (sqlite3, netsql) pairs per format, then jsonl, netsql netstat, netstat.
  std::printf("shell ratios (netsql / sqlite3 with the extension, fastest runs):\n");
  for (size_t i = shell_first; i < shell_pairs_end; i += 2)
    both(std::string(cases[i + 1].label).substr(8) + " / " + std::string(cases[i].label).substr(8),
         static_cast<int>(i + 1), static_cast<int>(i));
  both("netsql netstat -tan / netstat -tan", static_cast<int>(shell_pairs_end + 1), static_cast<int>(shell_pairs_end + 2));
  sqlite3_close(db);
  for (pid_t p : pids) kill(p, SIGKILL);
  for (pid_t p : pids) waitpid(p, nullptr, 0);
  return 0;
}
