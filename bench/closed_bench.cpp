// closed_bench: how many socket closes per second closed_sockets keeps up
// with over loopback, without loss. In a private network namespace a
// child process opens and closes loopback TCP connections at a target rate
// (each connection destroys two sockets; two processes churn) while this process reads
// `SELECT count(*), max(overruns) FROM closed_sockets(...)`; prints, per
// rate, closes made, rows read, overruns (ENOBUFS), the reader's CPU time
// and this process's peak RSS.
// With `collector`, a `netsql schedule` stream query (SELECT * FROM
// closed_sockets(-1), batches of 1000 rows or 1 s) collects instead, one
// collector per rate: rows in its history database, the overruns its
// catalog recorded, its CPU time and peak RSS.
//
//   sudo build/bench/closed_bench [seconds=3] [rates=5000,10000,20000,40000,0] [collector]   (0: as fast as possible)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <tuple>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run.h"

namespace {

using namespace netsql::bench;

constexpr int kWorkers = 2;

double cpu_s(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool subscribed() {
  std::ifstream in("/proc/thread-self/net/netlink");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk, groups;
    int eth = 0, pid = 0;
    f >> sk >> eth >> pid >> groups;
    if (eth == 4 && std::stoul(groups, nullptr, 16)) return true;
  }
  return false;
}

// Child: connects to `port` and closes, `rate` connections a second (0: flat
// out) for `seconds`; exits with nothing, writes the count to `out`.
void churn(int port, int rate, double seconds, int out) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(l, 4096)) die("listen");
  auto start = Clock::now();
  long n = 0;
  for (;;) {
    double t = std::chrono::duration<double>(Clock::now() - start).count();
    if (t >= seconds) break;
    if (rate && n >= static_cast<long>(t * rate)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    // RST on close: no TIME_WAIT, so ports do not run out at high rates.
    linger lg{1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a)) die("connect");
    int s = accept(l, nullptr, nullptr);
    if (s < 0) die("accept");
    close(c);
    close(s);
    ++n;
  }
  close(l);
  if (write(out, &n, sizeof n) != sizeof n) die("write");
}

}  // namespace

// The collector's history: its row count and the overruns its catalog recorded.
std::pair<long, long> history_counts(const std::string& path) {
  sqlite3* db = nullptr;
  long rows = -1, overruns = -1;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM flows), (SELECT sum(overruns) FROM snapshots)", -1, &st,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    rows = sqlite3_column_int64(st, 0);
    overruns = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return {rows, overruns};
}

// Starts `netsql schedule` collecting every closed socket into `dir`/h.db.
pid_t start_collector(const std::string& dir) {
  std::string cfg = dir + "/c.json";
  FILE* f = std::fopen(cfg.c_str(), "w");
  if (!f) die("config");
  std::fprintf(f, R"j({"db": "%s/h.db", "schedule": {"flows": {"query": "SELECT * FROM closed_sockets(-1)", )j"
                  R"j("stream": true, "interval": 1, "batch_rows": 1000}}})j",
               dir.c_str());
  std::fclose(f);
  std::fflush(stdout);  // else the child's freopen writes our buffered lines again
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(NETSQL_SHELL_PATH, "netsql", "schedule", cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3;
  std::vector<int> rates;
  std::stringstream list(argc > 2 ? argv[2] : "5000,10000,20000,40000,0");
  for (std::string r; std::getline(list, r, ',');) rates.push_back(std::atoi(r.c_str()));
  const bool collector = argc > 3 && std::string(argv[3]) == "collector";
  if (unshare(CLONE_NEWNET)) die("unshare (run as root)");
  system("ip link set lo up");
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_enable_load_extension(db, 1);
  char* err = nullptr;
  if (sqlite3_load_extension(db, NETSQL_EXTENSION_PATH, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "load: %s\n", err);
    return 1;
  }
  std::printf("%-8s %10s %10s %10s %9s %9s %10s %9s%s\n", "conn/s", "conns", "closes/s", "rows", "missing", "overruns",
              "cpu_s", "cpu_%", collector ? "   rss_KiB" : "");
  int port = 40000;
  for (int rate : rates) {
    ++port;
    // Every row: the client ends (closed with SO_LINGER 0) are announced
    // without their peer, which the kernel clears on an abortive close.
    std::string sql = "SELECT count(*), max(overruns) FROM closed_sockets(" +
                      std::to_string(static_cast<long>(seconds * 1000 + 1500)) + ")";
    long rows = -1, overruns = -1, rss = 0;
    double cpu = 0;
    char dir[] = "/tmp/closed-bench-XXXXXX";
    pid_t collecting = collector ? (mkdtemp(dir), start_collector(dir)) : -1;
    std::thread reader(collector ? std::function<void()>([] {}) : [&] {
      double c0 = cpu_s(RUSAGE_THREAD);
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
      if (sqlite3_step(st) == SQLITE_ROW) {
        rows = sqlite3_column_int64(st, 0);
        overruns = sqlite3_column_int64(st, 1);
      } else {
        std::fprintf(stderr, "query: %s\n", sqlite3_errmsg(db));
      }
      sqlite3_finalize(st);
      cpu = cpu_s(RUSAGE_THREAD) - c0;
    });
    while (!subscribed()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Two churning processes, each with its own listener and half the rate.
    int p[2];
    if (pipe(p)) die("pipe");
    std::vector<pid_t> children;
    for (int w = 0; w < kWorkers; ++w) {
      pid_t child = fork();
      if (child == 0) {
        churn(port * 10 % 60000 + w, rate / kWorkers, seconds, p[1]);
        _exit(0);
      }
      children.push_back(child);
    }
    long conns = 0;
    for (pid_t child : children) {
      long n = 0;
      if (read(p[0], &n, sizeof n) != sizeof n) die("read");
      conns += n;
      waitpid(child, nullptr, 0);
    }
    close(p[0]);
    close(p[1]);
    reader.join();
    long closes = 2 * conns + kWorkers;  // both ends of each connection, and the listeners
    if (collector) {
      // Until the history stops growing (a batch waits at most 1 s), then
      // SIGTERM: the collector writes what it holds and exits.
      for (long seen = -2;;) {
        long n = history_counts(std::string(dir) + "/h.db").first;
        if (n >= 0 && n == seen) break;
        seen = n;
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      }
      kill(collecting, SIGTERM);
      int status = 0;
      rusage ru{};
      wait4(collecting, &status, 0, &ru);
      cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
      rss = ru.ru_maxrss;
      std::tie(rows, overruns) = history_counts(std::string(dir) + "/h.db");
      system(("rm -rf " + std::string(dir)).c_str());
    }
    std::printf("%-8s %10ld %10.0f %10ld %9ld %9ld %10.2f %8.1f%%", rate ? std::to_string(rate).c_str() : "max",
                conns, closes / seconds, rows, closes - rows, overruns, cpu, 100 * cpu / seconds);
    if (collector) std::printf(" %9ld", rss);
    std::printf("\n");
  }
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  std::printf("peak RSS of the reading process: %ld KiB\n", self.ru_maxrss);
  sqlite3_close(db);
}
