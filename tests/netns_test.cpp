// Looking into other network namespaces: by name, path and pid, from a
// third namespace; the join over network_namespaces, also while namespaces
// come and go; and the promises to the caller: no namespace switch on any
// of its threads, no fd left open, clear errors at once for anything that
// is not a network namespace, and no silent wrong namespace for a netns
// test that cannot choose one.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <grp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
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

// A helper thread is joined when the kernel clears its tid (in mm_release),
// a moment before the task leaves /proc/self/task: wait, with a deadline,
// for exited helpers to go. A thread still alive in another namespace (the
// leak this guards against) never goes and fails the wait.
bool threads_back_to(const std::map<std::string, std::string>& before) {
  return wait_until([&] { return thread_namespaces() == before; }, 10);
}

// Two namespaces besides the caller's: `name` (ip netns add) held by a
// with a listener on 7001, and a private one held by b listening on 7002.
struct World {
  std::string name;
  Holder a, b;
  void build() {
    name = "nsqA" + std::to_string(getpid());
    sh("ip netns add " + name);
    a.start(name, 7001, "ip link set lo up && ip addr add 10.11.0.1/32 dev lo && ip route add blackhole 10.12.0.0/16");
    b.start("", 7002, "ip addr add 10.21.0.1/32 dev lo && ip route add blackhole 10.22.0.0/16");
  }
  ~World() {
    if (!name.empty()) run("ip netns del " + name + " 2>/dev/null");
  }
};

// Runs `body` as pid 1 of a new pid namespace, in a new mount namespace
// with its own /proc and an empty /run/netns, in a new network namespace:
// network_namespaces there sees the namespaces body makes and no others,
// not those of tests running beside it. Failures inside are reported by
// the child; the test fails if body failed, died, or was still running at
// `deadline_s` (a hang: the child and everything in its pid namespace are
// then killed).
void in_private_host(const std::function<void()>& body, int deadline_s = 100) {
  pid_t outer = fork();
  ASSERT_GE(outer, 0);
  if (outer == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) _exit(10);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(11);
    pid_t inner = fork();
    if (inner == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      mkdir("/run/netns", 0755);
      if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0 ||
          mount("tmpfs", "/run/netns", "tmpfs", 0, "mode=0755") != 0 || !enter_private_netns().empty())
        _exit(12);
      body();
      fflush(stdout);
      _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    int status = 0;
    if (inner < 0 || waitpid(inner, &status, 0) != inner) _exit(13);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, outer, 0));
  ASSERT_GE(pidfd, 0);
  pollfd p{pidfd, POLLIN, 0};
  bool finished = poll(&p, 1, deadline_s * 1000) == 1;
  close(pidfd);
  if (!finished) kill(outer, SIGKILL);
  int status = 0;
  waitpid(outer, &status, 0);
  EXPECT_TRUE(finished) << "still running after " << deadline_s << " s: hung";
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  EXPECT_FALSE(code >= 10 && code <= 13) << "could not build the private host (unshare, mount or fork failed: step "
                                         << code - 10 << ")";
  EXPECT_EQ(code, 0) << "the test failed inside the private host (failures above), or died (status " << status << ")";
}

class Netns : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    world_.build();
    name_ = world_.name;
  }
  World world_;
  std::string name_;
  Holder& a_ = world_.a;
  Holder& b_ = world_.b;
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
  EXPECT_TRUE(threads_back_to(before)) << testing::PrintToString(thread_namespaces());
}

// The whole host, in one query: the union of every namespace's listeners.
// In a private host (see in_private_host) the namespaces are exactly the
// caller's, the named one and the private one, so every row is known.
using NetnsHost = NetnsTest;

TEST_F(NetnsHost, JoinOverAllNamespaces) {
  in_private_host([] {
    World w;
    w.build();
    int own = tcp_listener("127.0.0.1", 7000);
    Db db;
    const std::string apid = std::to_string(w.a.pid), bpid = std::to_string(w.b.pid);
    const std::string bpath = "/proc/" + bpid + "/ns/net";
    EXPECT_EQ(db.rows("SELECT name, path, pid, processes, is_current FROM network_namespaces ORDER BY pid"),
              (std::vector<Row>{{std::nullopt, "/proc/1/ns/net", "1", "1", "1"},
                                {w.name, "/run/netns/" + w.name, apid, "1", "0"},
                                {std::nullopt, bpath, bpid, "1", "0"}}));
    EXPECT_EQ(db.rows("SELECT n.path, t.local_port FROM network_namespaces n JOIN tcp_sockets t ON t.netns = n.path "
                      "WHERE t.state = 'LISTEN' ORDER BY 2"),
              (std::vector<Row>{{"/proc/1/ns/net", "7000"}, {"/run/netns/" + w.name, "7001"}, {bpath, "7002"}}));
    close(own);
  });
}

// Namespaces bound and unbound (as ip netns add and del do: create the
// file, bind-mount; unmount, unlink) and held by short-lived processes, all
// the time: a host-wide join has no errors. A namespace that vanished
// between the listing and its turn in the join has no rows.
TEST_F(NetnsHost, JoinsSurviveNamespaceChurn) {
  in_private_host([] {
    pid_t churner = fork();
    ASSERT_GE(churner, 0);
    if (churner == 0) {
      auto file = [](int i) { return "/run/netns/churn" + std::to_string(i); };
      for (int i = 0;; ++i) {
        close(open(file(i).c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
        pid_t holder = fork();
        if (holder == 0) {
          if (unshare(CLONE_NEWNET) != 0 || mount("/proc/self/ns/net", file(i).c_str(), "none", MS_BIND, nullptr) != 0)
            _exit(1);
          _exit(0);
        }
        int status = 0;
        if (holder < 0 || waitpid(holder, &status, 0) != holder || status != 0) _exit(2);
        // The one before is now unmounted but still there; the one before that, gone.
        if (i >= 1) umount2(file(i - 1).c_str(), MNT_DETACH);
        if (i >= 2) unlink(file(i - 2).c_str());
      }
    }
    Db db;
    int errors = 0, churned = 0;
    std::string first_error;
    for (int q = 0; q < 100; ++q) {
      const char* sql = q % 2 ? "SELECT count(*) FROM network_namespaces n JOIN tcp_sockets t ON t.netns = n.path"
                               : "SELECT count(*) FROM network_namespaces n JOIN routes r ON r.netns = n.path";
      std::string e = db.error(sql);
      if (!e.empty() && errors++ == 0) first_error = e;
      churned += db.scalar("SELECT count(*) FROM network_namespaces WHERE name LIKE 'churn%' OR pid > 1") > 0;
    }
    kill(churner, SIGKILL);
    waitpid(churner, nullptr, 0);
    EXPECT_EQ(errors, 0) << first_error;
    EXPECT_GT(churned, 0);
  });
}

// Anything that is not a network namespace fails at once with an error
// that says what it is: nothing is opened for reading before its type is
// known, so a FIFO (whose open would wait for a writer) or a device node
// neither hangs nor acts. A NUL byte does not cut the name short.
TEST_F(NetnsHost, NonNamespacesFailAtOnce) {
  in_private_host([] {
    char dir[] = "/tmp/netsql-netns-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string d = dir;
    ASSERT_EQ(mkfifo((d + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(mkfifo("/run/netns/fifo", 0600), 0);
    ASSERT_EQ(mkdir("/run/netns/dir", 0755), 0);
    close(open((d + "/empty").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    close(open("/run/netns/unmounted", O_WRONLY | O_CREAT | O_CLOEXEC, 0444));
    Db db;
    for (auto [arg, what] : std::vector<std::pair<std::string, std::string>>{
             {d + "/fifo", d + "/fifo (a FIFO)"},
             {"fifo", "fifo (a FIFO)"},
             {"/run/netns/dir", "/run/netns/dir (a directory)"},
             {"/dev/null", "/dev/null (a character device)"},
             {"/dev/zero", "/dev/zero (a character device)"},
             {"/dev/tty", "/dev/tty (a character device)"},
             {d + "/empty", d + "/empty"},
             {"/etc/hostname", "/etc/hostname"},
             {"/proc/self/ns/uts", "/proc/self/ns/uts"}})
      EXPECT_EQ(db.error("SELECT * FROM routes('" + arg + "')"), "routes: not a network namespace: " + what);
    EXPECT_EQ(db.error("SELECT * FROM routes('/proc/1/ns/net' || char(0) || 'x')"),
              "routes: invalid network namespace /proc/1/ns/net\\0x: contains a NUL byte");
    EXPECT_EQ(db.error("SELECT * FROM routes(CAST('a' || char(0) AS TEXT))"),
              "routes: invalid network namespace a\\0: contains a NUL byte");
    // An empty file in /run/netns is a bound name between ip netns del's
    // unmount and unlink: vanished, no rows, like a path that is gone.
    EXPECT_EQ(db.rows("SELECT count(*) FROM routes('/run/netns/unmounted')"), (std::vector<Row>{{"0"}}));
    EXPECT_EQ(db.rows("SELECT count(*) FROM routes('unmounted')"), (std::vector<Row>{{"0"}}));
    // The listing passes over all of them without opening any.
    EXPECT_EQ(db.rows("SELECT path FROM network_namespaces"), (std::vector<Row>{{"/proc/1/ns/net"}}));
    run("rm -r " + d);
  });
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
  EXPECT_TRUE(threads_back_to(before)) << testing::PrintToString(thread_namespaces());
}

// A netns constraint chooses the namespace only through a value: = and IS
// (IS NULL: the caller's) and IN; any other test on the column is an error
// saying so, instead of reading the caller's namespace and matching nothing.
TEST_F(Netns, OnlyValuesChooseTheNamespace) {
  Db db;
  int own = tcp_listener("127.0.0.1", 7000);
  const std::string bpid = std::to_string(b_.pid);
  auto ports = [&](const std::string& where) {
    return db.rows("SELECT local_port FROM tcp_sockets WHERE state = 'LISTEN' AND " + where + " ORDER BY 1");
  };
  EXPECT_EQ(ports("netns IS '" + name_ + "'"), (std::vector<Row>{{"7001"}}));
  EXPECT_EQ(ports("netns IS " + bpid), (std::vector<Row>{{"7002"}}));
  EXPECT_EQ(ports("netns IS NULL"), (std::vector<Row>{{"7000"}}));
  EXPECT_EQ(ports("netns IN ('" + name_ + "', " + bpid + ")"), (std::vector<Row>{{"7001"}, {"7002"}}));
  EXPECT_EQ(ports("netns = '" + name_ + "' AND netns LIKE 'nsqA%'"), (std::vector<Row>{{"7001"}}));
  EXPECT_EQ(db.rows("SELECT netns FROM tcp_sockets WHERE netns IS '" + name_ + "' AND state = 'LISTEN'"),
            (std::vector<Row>{{name_}}));
  const std::string advice =
      " cannot choose a network namespace: use netns = '...' (or netns IS '...', netns IN (...)) or the table "
      "argument tcp_sockets('...')";
  for (auto [test, op] : {std::pair{"netns LIKE 'nsqA%'", "LIKE"}, {"netns GLOB 'nsqA*'", "GLOB"},
                          {"netns != 'x'", "!="}, {"netns IS NOT 'x'", "IS NOT"}, {"netns > ''", ">"},
                          {"netns IS NOT NULL", "IS NOT NULL"}, {"netns BETWEEN 'a' AND 'z'", ">="}})
    EXPECT_EQ(db.error(std::string("SELECT * FROM tcp_sockets WHERE ") + test), std::string("tcp_sockets: netns ") + op + advice)
        << test;
  // An expression over the column is no constraint SQLite shows a table:
  // it reads the caller's namespace, whose rows echo netns as NULL, so it
  // matches nothing, consistently (README says so).
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE lower(netns) = lower('" + name_ + "')"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE netns IS NULL AND local_port = 7000"), 1);
  close(own);
}

// The namespace column takes its value from a table read before it:
// network_namespaces first, then the socket table with netns handed over.
// A plan that cannot hand it over is refused, so SQLite never scans the
// caller's namespace in its place: when every plan would (two tables
// waiting on each other's netns), the statement fails instead of
// returning nothing.
TEST_F(Netns, PlansThatCannotHandOverTheNamespaceAreRefused) {
  Db db;
  auto plan = db.rows("EXPLAIN QUERY PLAN SELECT t.local_port FROM tcp_sockets t JOIN network_namespaces n "
                      "ON t.netns = n.path WHERE t.state = 'LISTEN'");
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0][3], "SCAN n VIRTUAL TABLE INDEX 0:;used=0x4");
  EXPECT_EQ(plan[1][3]->substr(0, plan[1][3]->find(';')), "SCAN t VIRTUAL TABLE INDEX 2:state EQ,netns EQ");
  EXPECT_EQ(db.error("SELECT * FROM tcp_sockets t JOIN udp_sockets u ON t.netns = u.netns"), "no query solution");
  // Naming one of them orders the plan again.
  EXPECT_EQ(db.rows("SELECT t.local_port, i.name FROM tcp_sockets t JOIN interfaces i ON t.netns = i.netns "
                    "WHERE i.netns = '" + name_ + "'"),
            (std::vector<Row>{{"7001", "lo"}}));
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
