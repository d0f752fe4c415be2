// closed_bench: how many socket closes per second closed_sockets keeps up
// with over loopback, without loss. In a private network namespace child
// processes (two) close sockets at a target rate while this process reads
// `SELECT count(*), max(overruns) FROM closed_sockets(...)`; prints, per
// rate, what was made, closes (destroy announcements) per second, rows
// read, overruns (ENOBUFS), the reader's CPU and this process's peak RSS.
// `tcp` (the default): loopback TCP connections, each closing two sockets
// (client and server end), made in batches of 32 (non-blocking connects,
// then the accepts, then the closes, the client's with SO_LINGER 0: an RST,
// no TIME_WAIT). `udp`: connected UDP sockets (socket, connect, one
// datagram, close), one close each: far cheaper to make, so they show the
// reader's own capacity beyond what the TCP churners reach here.
// With `collector`, a `netsql schedule` stream query (SELECT * FROM
// closed_sockets(-1), batches of 1000 rows or 1 s) collects instead, one
// collector per rate: rows in its history database, the overruns its
// catalog recorded, its CPU over the churn (utime + stime from
// /proc/PID/stat, per second of churning) and peak RSS (VmHWM).
//
//   sudo build/bench/closed_bench [seconds=3] [rates=5000,10000,20000,40000,0] [table|collector] [tcp|udp] [COLUMNS]
//   (rates: connections (tcp) or sockets (udp) per second; 0: as fast as possible; COLUMNS: what the
//   collector's query selects, * when not given; NETSQL_BENCH_SHELL=path: the netsql shell that
//   collects, to time another build)
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

constexpr int kBatch = 32;

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

// kBatch loopback TCP connections to the listener `l` at `a`, accepted and
// closed (client end first, with an RST).
void tcp_batch(int l, const sockaddr_in& a) {
  int c[kBatch];
  for (int& fd : c) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    linger lg{1, 0};  // RST on close: no TIME_WAIT, so ports do not run out at high rates
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) && errno != EINPROGRESS) die("connect");
  }
  int s[kBatch];
  for (int& fd : s)
    if ((fd = accept(l, nullptr, nullptr)) < 0) die("accept");
  for (int fd : c) close(fd);
  for (int fd : s) close(fd);
}

// kBatch connected UDP sockets, each sending one datagram to `a`, closed.
void udp_batch(const sockaddr_in& a) {
  for (int i = 0; i < kBatch; ++i) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a)) die("udp connect");
    [[maybe_unused]] ssize_t n = send(fd, "x", 1, MSG_DONTWAIT);
    close(fd);
  }
}

// Child: makes `rate` TCP connections or UDP sockets a second (0: flat
// out) to `port` for `seconds`, in batches; writes how many to `out`.
void churn(bool udp, int port, int rate, double seconds, int out) {
  const sockaddr_in a = loopback(port);
  int l = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);  // the listener, or the datagrams' sink
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, reinterpret_cast<const sockaddr*>(&a), sizeof a) || (!udp && listen(l, 4096))) die("listen");
  auto start = Clock::now();
  long n = 0;
  for (;;) {
    double t = std::chrono::duration<double>(Clock::now() - start).count();
    if (t >= seconds) break;
    if (rate && n >= static_cast<long>(t * rate)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    if (udp) udp_batch(a);
    else tcp_batch(l, a);
    n += kBatch;
  }
  close(l);
  if (write(out, &n, sizeof n) != sizeof n) die("write");
}

// utime + stime of process `pid`, seconds (/proc/PID/stat); -1 if gone.
double proc_cpu_s(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  std::istringstream f(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && f >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmHWM of process `pid`, KiB (its peak RSS so far); -1 if gone.
long proc_peak_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
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
pid_t start_collector(const std::string& dir, const std::string& columns) {
  std::string cfg = dir + "/c.json";
  FILE* f = std::fopen(cfg.c_str(), "w");
  if (!f) die("config");
  std::fprintf(f, R"j({"db": "%s/h.db", "schedule": {"flows": {"query": "SELECT %s FROM closed_sockets(-1)", )j"
                  R"j("stream": true, "interval": 1, "batch_rows": 1000}}})j",
               dir.c_str(), columns.c_str());
  std::fclose(f);
  std::fflush(stdout);  // else the child's freopen writes our buffered lines again
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    const char* shell = std::getenv("NETSQL_BENCH_SHELL");  // another build's shell, to compare in one run
    execl(shell ? shell : NETSQL_SHELL_PATH, "netsql", "schedule", cfg.c_str(), static_cast<char*>(nullptr));
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
  const bool udp = argc > 4 && std::string(argv[4]) == "udp";
  const std::string columns = argc > 5 ? argv[5] : "*";
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
  std::printf("%s, %s\n", udp ? "udp sockets (one close each)" : "tcp connections (two closes each)",
              collector ? ("netsql schedule collecting SELECT " + columns).c_str() : "read by SELECT count(*) in this process");
  std::printf("%-8s %10s %10s %10s %9s %9s %10s %9s%s\n", udp ? "sock/s" : "conn/s", "made", "closes/s", "rows",
              "missing", "overruns", "cpu_s", "cpu_%", collector ? "  peak_KiB" : "");
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
    pid_t collecting = collector ? (mkdtemp(dir), start_collector(dir, columns)) : -1;
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
    while (!subscribed()) {
      if (collector && waitpid(collecting, nullptr, WNOHANG) == collecting) {
        std::fprintf(stderr, "closed_bench: the collector ended before it listened (its error is above)\n");
        reader.join();
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const double cpu0 = collector ? proc_cpu_s(collecting) : 0;
    // Two churning processes, each with its own listener and half the rate.
    int p[2];
    if (pipe(p)) die("pipe");
    std::vector<pid_t> children;
    for (int w = 0; w < kWorkers; ++w) {
      pid_t child = fork();
      if (child == 0) {
        churn(udp, port * 10 % 60000 + w, rate / kWorkers, seconds, p[1]);
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
    long closes = (udp ? 1 : 2) * conns + kWorkers;  // both ends of each connection; the listeners (sinks)
    if (collector) {
      // Until the history stops growing (a batch waits at most 1 s), then
      // SIGTERM: the collector writes what it holds and exits.
      for (long seen = -2;;) {
        long n = history_counts(std::string(dir) + "/h.db").first;
        if (n >= 0 && n == seen) break;
        seen = n;
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      }
      // CPU from just before the churn began until every row was written.
      cpu = proc_cpu_s(collecting) - cpu0;
      rss = proc_peak_kib(collecting);
      kill(collecting, SIGTERM);
      waitpid(collecting, nullptr, 0);
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
