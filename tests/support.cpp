#include "support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace netsql::test {

std::string enter_private_netns() {
  if (unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  ioctl(s, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  int rc = ioctl(s, SIOCSIFFLAGS, &ifr);
  close(s);
  if (rc != 0) return std::string("bringing lo up: ") + std::strerror(errno);
  return {};
}

void NetnsTest::SetUp() {
  std::string err = enter_private_netns();
  if (!err.empty()) GTEST_SKIP() << "needs root (CAP_SYS_ADMIN) for a private network namespace: " << err;
}

void NetnsTest::TearDown() {
  if (!peer_.empty()) run("ip netns del " + peer_ + " 2>/dev/null");
}

const std::string& NetnsTest::add_peer(const std::string& prefix) {
  peer_ = prefix + std::to_string(getpid());
  sh("ip netns add " + peer_);
  return peer_;
}

Db::Db() {
  EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
  sqlite3_enable_load_extension(db_, 1);
  char* err = nullptr;
  int rc = sqlite3_load_extension(db_, NETSQL_EXTENSION_PATH, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
}

Db::~Db() { sqlite3_close(db_); }

std::vector<Row> Db::rows(const std::string& sql) {
  std::vector<Row> out;
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
  if (rc != SQLITE_OK) return out;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    Row r;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (sqlite3_column_type(st, i) == SQLITE_NULL) r.push_back(std::nullopt);
      else r.push_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i))));
    }
    out.push_back(std::move(r));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
  sqlite3_finalize(st);
  return out;
}

long long Db::scalar(const std::string& sql) {
  auto r = rows(sql);
  EXPECT_EQ(r.size(), 1u) << sql;
  if (r.size() != 1 || r[0].empty() || !r[0][0]) return -1;
  return std::stoll(*r[0][0]);
}

std::string Db::error(const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
  }
  std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
  sqlite3_finalize(st);
  return msg;
}

std::vector<std::string> Db::types(const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    static const char* kNames[] = {"", "INTEGER", "REAL", "TEXT", "BLOB", "NULL"};
    for (int i = 0; i < sqlite3_column_count(st); ++i) out.push_back(kNames[sqlite3_column_type(st, i)]);
  }
  sqlite3_finalize(st);
  return out;
}

std::string run_as_nobody(const std::vector<std::string>& queries, const std::vector<int>& close_fds,
                          void (*as_nobody)()) {
  char dir[] = "/tmp/netsql-test-XXXXXX";
  if (!mkdtemp(dir)) return "error: mkdtemp;";
  chmod(dir, 0755);
  std::string so = std::string(dir) + "/libnetsql.so";
  run(std::string("cp " NETSQL_EXTENSION_PATH " ") + so + " && chmod 755 " + so);
  int out[2];
  if (pipe(out) != 0) return "error: pipe;";
  pid_t child = fork();
  if (child == 0) {
    close(out[0]);
    for (int fd : close_fds) close(fd);
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(3);
    if (as_nobody) as_nobody();
    sqlite3* db = nullptr;
    sqlite3_open(":memory:", &db);
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, so.c_str(), nullptr, nullptr) != SQLITE_OK) _exit(4);
    std::string result;
    for (const auto& q : queries) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        result += std::string("error: ") + sqlite3_errmsg(db) + ";";
      } else {
        result += reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) + std::string(";");
      }
      sqlite3_finalize(st);
    }
    if (write(out[1], result.data(), result.size()) < 0) _exit(5);
    _exit(0);
  }
  close(out[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(child, &status, 0);
  run(std::string("rm -rf ") + dir);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "error: child exited with " + std::to_string(status) + ";";
  return got;
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

void sh(const std::string& cmd) {
  int rc = system(cmd.c_str());
  ASSERT_EQ(rc, 0) << cmd;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  char d[] = "/tmp/netsql-test-XXXXXX";
  if (!mkdtemp(d)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  path = d;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

std::string temp_file(const std::string& text) {
  char path[] = "/tmp/netsql-file-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  return path;
}

Ran run_captured(const std::string& cmd, const std::string& input) {
  char dir[] = "/tmp/netsql-run-XXXXXX";
  if (!mkdtemp(dir)) return {"", "mkdtemp failed", -1};
  std::string d = dir;
  std::ofstream(d + "/in", std::ios::binary) << input;
  const std::string line = "timeout 60 " + cmd + " <" + d + "/in >" + d + "/out 2>" + d + "/err";
  int rc = -1;
  rusage ru{};
  if (pid_t pid = fork(); pid == 0) {
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  } else if (pid > 0) {
    wait4(pid, &rc, 0, &ru);  // ru covers the child and the children it waited for
  }
  Ran r{slurp(d + "/out"), slurp(d + "/err"), WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ru.ru_maxrss};
  run("rm -rf " + d);
  return r;
}

bool have_sqlite3() { return system("sqlite3 -version >/dev/null 2>&1") == 0; }

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

namespace {

sockaddr_storage make_addr(const std::string& addr, int port, socklen_t& len) {
  sockaddr_storage ss{};
  if (addr.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  return ss;
}

}  // namespace

int tcp_listener(const std::string& addr, int port, int backlog) {
  socklen_t len;
  auto sa = make_addr(addr, port, len);
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
  EXPECT_EQ(listen(fd, backlog), 0) << std::strerror(errno);
  return fd;
}

int tcp_connect(const std::string& addr, int port) {
  socklen_t len;
  auto sa = make_addr(addr, port, len);
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
  return fd;
}

int tcp_accept(int listener) { return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); }

int udp_socket(const std::string& addr, int port, const std::string& peer, int peer_port) {
  socklen_t len;
  auto sa = make_addr(addr, port, len);
  int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
  if (!peer.empty()) {
    auto pa = make_addr(peer, peer_port, len);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&pa), len), 0) << std::strerror(errno);
  }
  return fd;
}

int local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

unsigned long inode_of(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

int open_fd_count() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the directory stream itself
}

std::set<Tuple> ss_tuples(const std::string& flags) {
  static const std::map<std::string, std::string> kStates = {
      {"ESTAB", "ESTABLISHED"}, {"SYN-SENT", "SYN_SENT"}, {"SYN-RECV", "SYN_RECV"},
      {"FIN-WAIT-1", "FIN_WAIT1"}, {"FIN-WAIT-2", "FIN_WAIT2"}, {"TIME-WAIT", "TIME_WAIT"},
      {"UNCONN", "UNCONN"}, {"CLOSE-WAIT", "CLOSE_WAIT"}, {"LAST-ACK", "LAST_ACK"},
      {"LISTEN", "LISTEN"}, {"CLOSING", "CLOSING"}};
  auto split = [](std::string s, bool v6) {
    size_t colon = s.rfind(':');
    std::string addr = s.substr(0, colon), port = s.substr(colon + 1);
    if (!addr.empty() && addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
    if (size_t pct = addr.find('%'); pct != std::string::npos) addr = addr.substr(0, pct);
    if (addr == "*") addr = v6 ? "::" : "0.0.0.0";
    return std::make_pair(addr, port == "*" ? 0 : std::stoi(port));
  };
  std::set<Tuple> out;
  for (bool v6 : {false, true}) {  // ss writes either wildcard as '*'
    std::istringstream in(run(std::string("ss -H -n ") + (v6 ? "-6 " : "-4 ") + flags));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string state, rq, sq, local, peer;
      if (!(ls >> state >> rq >> sq >> local >> peer)) continue;
      auto [la, lp] = split(local, v6);
      auto [ra, rp] = split(peer, v6);
      auto it = kStates.find(state);
      out.emplace(it == kStates.end() ? state : it->second, la, lp, ra, rp);
    }
  }
  return out;
}

Row last_scan(Db& db, const std::string& columns, const std::string& table) {
  auto rows = db.rows("SELECT " + columns + " FROM netsql_stats WHERE table_name = '" + table + "'");
  EXPECT_EQ(rows.size(), 1u) << table;
  return rows.empty() ? Row{} : rows[0];
}

bool wait_until(const std::function<bool()>& done, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the poll interval, not a wait for time to pass
  }
  return true;
}

Child::Child(const std::function<void()>& body, const std::function<void()>& after_fork) {
  int ready[2];
  if (pipe(ready) != 0) return;
  pid = fork();
  if (pid == 0) {
    close(ready[0]);
    body();
    char c = 1;
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  after_fork();
  char c = 0;
  if (read(ready[0], &c, 1) != 1) ADD_FAILURE() << "child failed to start";
  close(ready[0]);
}

Child::~Child() {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

Churner::Churner() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return;
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    for (;;) {
      pid_t c = fork();
      if (c == 0) {
        for (int i = 0; i < 64; ++i) socket(AF_UNIX, SOCK_DGRAM, 0);
        _exit(0);
      }
      if (c < 0 || waitpid(c, nullptr, 0) != c) _exit(1);
      char b = 1;
      if (write(p[1], &b, 1) != 1) _exit(1);
    }
  }
  close(p[1]);
  exits_ = p[0];
  fcntl(exits_, F_SETFL, O_NONBLOCK);
}

Churner::~Churner() {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(exits_);
}

long Churner::count() {
  char buf[4096];
  for (ssize_t n; (n = read(exits_, buf, sizeof buf)) > 0;) reaped_ += n;
  return reaped_;
}

int exchange(int listener, const std::string& addr, int port, size_t bytes) {
  int c = tcp_connect(addr, port);
  int s = tcp_accept(listener);
  std::string data(bytes, 'x');
  EXPECT_EQ(write(c, data.data(), bytes), static_cast<ssize_t>(bytes));
  size_t got = 0;
  char buf[4096];
  while (got < bytes) {
    ssize_t n = read(s, buf, sizeof buf);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(got, bytes);
  int port_used = local_port(c);
  close(c);
  close(s);
  return port_used;
}

std::vector<unsigned long> joined_sock_diag_groups() {
  std::ifstream in("/proc/thread-self/net/netlink");
  std::string line;
  std::getline(in, line);  // header
  std::vector<unsigned long> out;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk, groups;
    int eth = 0;
    std::string pid;  // an autobound port id may not fit an int
    f >> sk >> eth >> pid >> groups;
    unsigned long g = std::stoul(groups, nullptr, 16);
    if (eth == 4 && g) out.push_back(g);
  }
  return out;
}

void in_named_netns(const std::string& name, const std::function<void()>& f) {
  std::thread t([&] {
    int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << "no namespace " << name;
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0);
    close(fd);
    f();
  });
  t.join();
}

}  // namespace netsql::test
