// Looking into other network namespaces: by name, path and pid, from a
// third namespace; the join over network_namespaces; and the promises to
// the caller: no namespace switch on any of its threads, no fd left open,
// clear errors.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "support.h"

namespace netsql::test {
namespace {

// A child that lives in a namespace and holds a listener there. With a
// name, the namespace is `ip netns add`ed and the child enters it;
// without, the child makes a private one that only it holds.
struct Holder {
  pid_t pid = -1;
  void start(const std::string& name, int port, const std::string& setup) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid = fork();
    if (pid == 0) {
      close(ready[0]);
      if (!name.empty()) {
        int fd = open(("/run/netns/" + name).c_str(), O_RDONLY);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(2);
        close(fd);
      } else if (!enter_private_netns().empty()) {
        _exit(3);
      }
      if (system(setup.c_str()) != 0) _exit(4);
      int l = tcp_listener("127.0.0.1", port);
      (void)l;
      char c = 1;
      if (write(ready[1], &c, 1) != 1) _exit(5);
      pause();
      _exit(0);
    }
    close(ready[1]);
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1) << "namespace holder failed to start";
    close(ready[0]);
  }
  ~Holder() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

std::map<std::string, std::string> thread_namespaces() {
  std::map<std::string, std::string> out;
  DIR* d = opendir("/proc/self/task");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char link[64] = {};
    std::string path = std::string("/proc/self/task/") + e->d_name + "/ns/net";
    if (readlink(path.c_str(), link, sizeof link - 1) > 0) out[e->d_name] = link;
  }
  closedir(d);
  return out;
}

class Netns : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    name_ = "nsqA" + std::to_string(getpid());
    sh("ip netns add " + name_);
    a_.start(name_, 7001, "ip link set lo up && ip addr add 10.11.0.1/32 dev lo && ip route add blackhole 10.12.0.0/16");
    b_.start("", 7002, "ip addr add 10.21.0.1/32 dev lo && ip route add blackhole 10.22.0.0/16");
  }
  void TearDown() override {
    if (!name_.empty()) run("ip netns del " + name_ + " 2>/dev/null");
  }
  std::string name_;
  Holder a_, b_;
};

std::vector<Row> listeners(Db& db, const std::string& arg) {
  return db.rows("SELECT local_port FROM tcp_sockets(" + arg + ") WHERE state = 'LISTEN'");
}

TEST_F(Netns, ByNamePathAndPid) {
  Db db;
  auto before = thread_namespaces();
  std::string bpath = "/proc/" + std::to_string(b_.pid) + "/ns/net";
  for (const std::string& arg : {"'" + name_ + "'", "'/run/netns/" + name_ + "'", std::to_string(a_.pid)})
    EXPECT_EQ(listeners(db, arg), (std::vector<Row>{{"7001"}})) << arg;
  for (const std::string& arg : {"'" + bpath + "'", std::to_string(b_.pid), "'" + std::to_string(b_.pid) + "'"})
    EXPECT_EQ(listeners(db, arg), (std::vector<Row>{{"7002"}})) << arg;
  // Our own namespace has neither.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets"), 0);
  // The constraint form, and the echoed column.
  EXPECT_EQ(db.rows("SELECT local_port, netns FROM tcp_sockets WHERE netns = '" + name_ + "'"),
            (std::vector<Row>{{"7001", name_}}));
  // Routes, addresses, counters, interfaces of each.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM routes('" + name_ + "') WHERE destination = '10.12.0.0' AND type = 'blackhole'"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM routes('" + name_ + "') WHERE destination = '10.22.0.0'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM routes(" + std::to_string(b_.pid) + ") WHERE destination = '10.22.0.0'"), 1);
  EXPECT_EQ(db.rows("SELECT address FROM interface_addresses('" + bpath + "') WHERE family = 'inet' ORDER BY address"),
            (std::vector<Row>{{"10.21.0.1"}, {"127.0.0.1"}}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM interfaces('" + name_ + "')"), 1);
  EXPECT_GT(db.scalar("SELECT count(*) FROM protocol_stats('" + name_ + "') WHERE protocol = 'Tcp'"), 5);
  EXPECT_EQ(db.scalar("SELECT value FROM protocol_stats(" + std::to_string(b_.pid) +
                      ") WHERE protocol = 'Tcp' AND name = 'CurrEstab'"), 0);
  EXPECT_GE(db.scalar("SELECT count(*) FROM multicast_groups('" + name_ + "')"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM udp_sockets('" + name_ + "')"), 0);
  EXPECT_GE(db.scalar("SELECT count(*) FROM unix_sockets('" + name_ + "')"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM neighbors('" + name_ + "')"), 0);
  EXPECT_EQ(thread_namespaces(), before);
}

TEST_F(Netns, JoinOverAllNamespaces) {
  Db db;
  std::string bpath = "/proc/" + std::to_string(b_.pid) + "/ns/net";
  auto ns = db.rows("SELECT name, path, pid, processes, is_current FROM network_namespaces WHERE name = '" + name_ +
                    "' OR path = '" + bpath + "' ORDER BY name IS NULL");
  ASSERT_EQ(ns.size(), 2u);
  EXPECT_EQ(ns[0], (Row{name_, "/run/netns/" + name_, std::to_string(a_.pid), "1", "0"}));
  EXPECT_EQ(ns[1], (Row{std::nullopt, bpath, std::to_string(b_.pid), "1", "0"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM network_namespaces WHERE is_current"), 1);
  auto rows = db.rows("SELECT n.path, t.local_port FROM network_namespaces n JOIN tcp_sockets t ON t.netns = n.path "
                      "WHERE t.state = 'LISTEN' AND n.path IN ('/run/netns/" + name_ + "', '" + bpath + "') ORDER BY 2");
  EXPECT_EQ(rows, (std::vector<Row>{{"/run/netns/" + name_, "7001"}, {bpath, "7002"}}));
  // The whole host: the union of each namespace's listeners, in one query.
  // Other tests add and remove namespaces meanwhile: compare when the
  // one-at-a-time count is the same just before and just after the join.
  auto one_by_one = [&] {
    long long sum = 0;
    for (auto& r : db.rows("SELECT path FROM network_namespaces"))
      sum += db.scalar("SELECT count(*) FROM tcp_sockets('" + *r[0] + "') WHERE state = 'LISTEN'");
    return sum;
  };
  long long total = -1;
  for (int attempt = 0; attempt < 20 && total < 0; ++attempt) {
    long long before = one_by_one();
    long long joined = db.scalar("SELECT count(*) FROM network_namespaces n JOIN tcp_sockets t ON t.netns = n.path "
                                 "WHERE t.state = 'LISTEN'");
    if (before == one_by_one()) {
      EXPECT_EQ(joined, before);
      total = before;
    }
  }
  EXPECT_GE(total, 2);
}

TEST_F(Netns, NoThreadSwitchedAndNoFdLeaked) {
  Db db;
  auto before = thread_namespaces();
  db.rows("SELECT * FROM tcp_sockets('" + name_ + "')");  // warm up
  int fds = open_fd_count();
  for (int i = 0; i < 1000; ++i) {
    const std::string arg = i % 2 ? "'" + name_ + "'" : std::to_string(b_.pid);
    db.rows("SELECT local_port, interface FROM tcp_sockets(" + arg + ") LIMIT 1");
    if (i % 100 == 0) {
      db.rows("SELECT * FROM routes(" + arg + ")");
      db.rows("SELECT * FROM protocol_stats(" + arg + ") LIMIT 3");
      db.error("SELECT * FROM tcp_sockets('no-such-ns')");
    }
  }
  EXPECT_EQ(open_fd_count(), fds);
  EXPECT_EQ(thread_namespaces(), before);
}

TEST_F(Netns, ClearErrors) {
  Db db;
  EXPECT_EQ(db.error("SELECT * FROM tcp_sockets('blue-nope')"), "tcp_sockets: no such network namespace: blue-nope");
  EXPECT_EQ(db.error("SELECT * FROM routes('/proc/self/ns/uts')"), "routes: not a network namespace: /proc/self/ns/uts");
  EXPECT_EQ(db.error("SELECT * FROM routes('/etc/hostname')"), "routes: not a network namespace: /etc/hostname");
  EXPECT_EQ(db.error("SELECT * FROM interfaces(999999999)"), "interfaces: no such process: 999999999");
  EXPECT_EQ(db.error("SELECT * FROM interfaces('../x')"), "interfaces: no such network namespace: ../x");
  // A path that is gone (a namespace that went away since it was listed): no rows.
  EXPECT_EQ(db.error("SELECT * FROM tcp_sockets('/run/netns/gone-" + name_ + "')"), "");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets('/proc/999999999/ns/net')"), 0);
  EXPECT_EQ(db.error("SELECT * FROM tcp_sockets(1.5)"), "tcp_sockets: netns must be a namespace name, a path or a pid");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets(NULL)"), 0);
}

TEST_F(Netns, UnprivilegedGetsAClearError) {
  std::string spec = std::to_string(a_.pid);
  std::string got = run_as_nobody({"SELECT count(*) FROM tcp_sockets('" + spec + "')",
                                   "SELECT count(*) FROM routes('" + name_ + "')"});
  EXPECT_EQ(got, "error: tcp_sockets: not permitted to open network namespace " + spec + " (needs root or CAP_SYS_ADMIN);" +
                     "error: routes: not permitted to enter network namespace " + name_ + " (needs root or CAP_SYS_ADMIN);");
}

}  // namespace
}  // namespace netsql::test
