// Socket owners through the BPF iterator and through /proc: the same rows
// from both paths, the path visible and forcible (netsql_owner_source), a
// silent fallback for callers that may not load BPF, and nothing left
// loaded or open after the connection that loaded it closes.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "kernel/owners.h"
#include "kernel/owners_bpf.h"
#include "support.h"

namespace netsql::test {
namespace {

using Owners = NetnsTest;

void send_fd(int over, int fd) {
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ASSERT_EQ(sendmsg(over, &msg, 0), 1);
}

int receive_fd(int over) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(over, &msg, 0) != 1) return -1;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

// Rows of `sql` read through `path`, asserting that path served them.
std::vector<Row> rows_through(Db& db, const std::string& path, const std::string& sql) {
  EXPECT_EQ(db.rows("SELECT netsql_owner_source('" + path + "')"), (std::vector<Row>{{path}}));
  auto rows = db.rows(sql);
  EXPECT_EQ(db.rows("SELECT netsql_owner_source()"), (std::vector<Row>{{path}})) << sql;
  return rows;
}

TEST_F(Owners, BpfAndProcGiveTheSameRowsForForkedPassedAndForeignSockets) {
  int listener = tcp_listener("127.0.0.1", 0);
  int client = tcp_connect("127.0.0.1", local_port(listener));
  int accepted = tcp_accept(listener);
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  // Inherits the listener: two owners of one socket.
  Child sharer([] {});
  // Gets a socket made after it forked, only through SCM_RIGHTS, and moves
  // it to descriptor 77.
  int passed = -1;
  Child receiver([&] {
    int fd = receive_fd(pair[1]);
    if (fd < 0 || dup2(fd, 77) != 77) _exit(2);
    close(fd);
  }, [&] {
    passed = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    send_fd(pair[0], passed);
  });
  // In another network namespace, holding its own listener there and ours.
  Child foreign([] {
    if (!enter_private_netns().empty()) _exit(3);
    if (tcp_listener("127.0.0.1", 0) < 0) _exit(4);
  });

  std::string pids = std::to_string(getpid()) + "," + std::to_string(sharer.pid) + "," + std::to_string(receiver.pid) +
                     "," + std::to_string(foreign.pid);
  std::string owners_sql = "SELECT inode, pid, fd, process FROM socket_owners WHERE +pid IN (" + pids + ") ORDER BY 1, 2, 3";
  std::string tcp_sql = "SELECT local_port, state, pid, process FROM tcp_sockets ORDER BY 1, 2";
  std::string foreign_sql = "SELECT local_port, pid, process FROM tcp_sockets(" + std::to_string(foreign.pid) + ")";

  Db db;
  auto proc_owners = rows_through(db, "proc", owners_sql);
  auto proc_tcp = rows_through(db, "proc", tcp_sql);
  auto proc_foreign = rows_through(db, "proc", foreign_sql);
  auto bpf_owners = rows_through(db, "bpf", owners_sql);
  auto bpf_tcp = rows_through(db, "bpf", tcp_sql);
  auto bpf_foreign = rows_through(db, "bpf", foreign_sql);
  EXPECT_EQ(bpf_owners, proc_owners);
  EXPECT_EQ(bpf_tcp, proc_tcp);
  EXPECT_EQ(bpf_foreign, proc_foreign);

  // And those rows are the world we built.
  auto owners_of = [&](unsigned long inode) {
    std::vector<std::string> got;
    for (const Row& r : bpf_owners)
      if (*r[0] == std::to_string(inode)) got.push_back(*r[1] + ":" + *r[2]);
    return got;
  };
  std::string me = std::to_string(getpid()), l = std::to_string(listener);
  auto listener_owners = owners_of(inode_of(listener));
  EXPECT_EQ(listener_owners.size(), 4u);  // us, the sharer, the receiver and the foreign child all inherited it
  EXPECT_NE(std::find(listener_owners.begin(), listener_owners.end(), std::to_string(sharer.pid) + ":" + l),
            listener_owners.end());
  std::vector<std::string> passed_owners{me + ":" + std::to_string(passed), std::to_string(receiver.pid) + ":77",
                                         std::to_string(foreign.pid) + ":" + std::to_string(passed)};
  std::sort(passed_owners.begin(), passed_owners.end());
  EXPECT_EQ(owners_of(inode_of(passed)), passed_owners);
  ASSERT_EQ(bpf_foreign.size(), 1u);
  EXPECT_EQ(bpf_foreign[0][1], std::to_string(foreign.pid));
  ASSERT_EQ(bpf_tcp.size(), 3u);  // listener, client, accepted
  for (const Row& r : bpf_tcp) EXPECT_EQ(r[2], me);
  db.rows("SELECT netsql_owner_source('auto')");
  for (int fd : {listener, client, accepted, pair[0], pair[1], passed}) close(fd);
}

TEST_F(Owners, AutoPicksBpfForRoot) {
  int l = tcp_listener("127.0.0.1", 0);
  Db db;
  EXPECT_EQ(db.rows("SELECT netsql_owner_source()"), (std::vector<Row>{{std::nullopt}}));
  db.rows("SELECT count(pid) FROM tcp_sockets");
  EXPECT_EQ(db.rows("SELECT netsql_owner_source()"), (std::vector<Row>{{"bpf"}}));
  close(l);
}

TEST_F(Owners, NoRowsNoOwnerScan) {
  Db db;
  // The private namespace has no sockets: owners are never looked up.
  EXPECT_EQ(db.rows("SELECT pid, process FROM tcp_sockets WHERE state = 'LISTEN'"), std::vector<Row>{});
  EXPECT_EQ(db.rows("SELECT netsql_owner_source()"), (std::vector<Row>{{std::nullopt}}));
}

TEST_F(Owners, BadPathIsAnError) {
  Db db;
  EXPECT_EQ(db.error("SELECT netsql_owner_source('fast')"),
            "netsql_owner_source: the path must be 'auto', 'proc' or 'bpf'");
  EXPECT_EQ(db.error("SELECT netsql_owner_source(1, 2)"), "netsql_owner_source: takes at most one argument");
}

TEST_F(Owners, UnprivilegedCallerFallsBackToProcSilently) {
  int l = tcp_listener("127.0.0.1", 0);  // a row, so that owners are looked up
  // The child inherits our stderr: catch everything it writes there.
  char path[] = "/tmp/netsql-stderr-XXXXXX";
  int capture = mkstemp(path);
  ASSERT_GE(capture, 0);
  unlink(path);
  int saved = dup(2);
  dup2(capture, 2);
  std::string got = run_as_nobody({"SELECT netsql_owner_source('auto')", "SELECT count(*) >= count(pid) FROM tcp_sockets",
                                   "SELECT netsql_owner_source()", "SELECT netsql_owner_source('bpf')",
                                   "SELECT count(pid) FROM tcp_sockets"});
  dup2(saved, 2);
  close(saved);
  EXPECT_EQ(got,
            "auto;1;proc;bpf;error: tcp_sockets: BPF owner scan unavailable: loading BPF needs CAP_BPF and "
            "CAP_PERFMON;");
  char buf[4096];
  ssize_t n = pread(capture, buf, sizeof buf, 0);
  close(capture);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "");
  close(l);
}

TEST_F(Owners, ProcessesExitingDuringTheScanAreSkippedOnBothPaths) {
  Churner churn;
  ASSERT_GT(churn.pid, 0);
  int listener = tcp_listener("127.0.0.1", 0);
  Child holder([] {});  // inherits the listener
  std::string me = std::to_string(getpid()), fd = std::to_string(listener), inode = std::to_string(inode_of(listener));
  const std::vector<Row> owners{{me, fd}, {std::to_string(holder.pid), fd}};
  std::string comm;
  std::getline(std::ifstream("/proc/self/comm"), comm);
  const std::vector<Row> tcp{{me, comm}};
  Db db;
  for (std::string path : {"proc", "bpf"}) {
    db.rows("SELECT netsql_owner_source('" + path + "')");
    // Whole-machine scans (no pid pushdown) while the churner's children
    // come and go, until enough of both have happened.
    long churned = churn.count();
    int scans = 0;
    EXPECT_TRUE(wait_until(
        [&] {
          EXPECT_EQ(db.rows("SELECT pid, fd FROM socket_owners WHERE inode = " + inode + " ORDER BY pid"), owners);
          EXPECT_EQ(db.rows("SELECT pid, process FROM tcp_sockets WHERE local_port = " +
                            std::to_string(local_port(listener))),
                    tcp);
          ++scans;
          return scans >= 50 && churn.count() - churned >= 50;
        },
        120))
        << path << ": " << scans << " scans, " << churn.count() - churned << " exits";
    EXPECT_EQ(db.rows("SELECT netsql_owner_source()"), (std::vector<Row>{{path}}));
  }
  db.rows("SELECT netsql_owner_source('auto')");
  close(listener);
}

// Whether this process holds a loaded program called `name` (through its fds).
bool holds_program(const std::string& name) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:bpf-prog") continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(std::atoi(entry.path().filename().c_str()), &info, &len) == 0 && info.name == name)
      return true;
  }
  return false;
}

// Port -> "pid:fd" of the lowest pid (and its lowest fd) holding each
// listener, read from `ss -ltnp` (users:(("name",pid=P,fd=F),...)).
std::map<std::string, std::string> ss_lowest_owners() {
  std::map<std::string, std::pair<long, long>> lowest;
  std::istringstream out(run("ss -Hltnp"));
  for (std::string line; std::getline(out, line);) {
    std::istringstream fields(line);
    std::string state, recv_q, send_q, local;
    fields >> state >> recv_q >> send_q >> local;
    std::string port = local.substr(local.rfind(':') + 1);
    for (size_t at = 0; (at = line.find("pid=", at)) != std::string::npos;) {
      long pid = std::atol(line.c_str() + at + 4);
      at = line.find("fd=", at);
      long fd = std::atol(line.c_str() + at + 3);
      auto [it, fresh] = lowest.try_emplace(port, pid, fd);
      if (!fresh && std::make_pair(pid, fd) < it->second) it->second = {pid, fd};
    }
  }
  std::map<std::string, std::string> got;
  for (auto& [port, owner] : lowest) got[port] = std::to_string(owner.first) + ":" + std::to_string(owner.second);
  return got;
}

TEST_F(Owners, OwnersOfFewSocketsMatchTheWholeScanAndSsAmongManyOtherFds) {
  // Listeners held in every way that matters to the kernel-side walk: ours,
  // one shared with a child (two owners, the lowest pid counts), one that
  // only a child holds at a high fd (past the first 64-slot chunks), one
  // duplicated on several fds; and thousands of other fds (sockets, pipes,
  // a file) that must not match.
  int mine = tcp_listener("127.0.0.1", 0);
  int shared = tcp_listener("127.0.0.1", 0);
  int dupped = tcp_listener("127.0.0.1", 0);
  int dups[] = {fcntl(dupped, F_DUPFD_CLOEXEC, 0), fcntl(dupped, F_DUPFD_CLOEXEC, 0)};  // not in ss (popen)
  std::vector<int> others;
  for (int i = 0; i < 1500; ++i) {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    others.insert(others.end(), {pair[0], pair[1]});
  }
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  others.insert(others.end(), {pipe_fds[0], pipe_fds[1], open("/proc/self/status", O_RDONLY)});
  int established = tcp_connect("127.0.0.1", local_port(mine));  // not listening: not wanted
  int high_port = 0;
  unsigned long high_inode = 0;
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  Child holder([&] {
    for (int fd : {mine, dupped, dups[0], dups[1]}) close(fd);  // keeps only `shared` of ours
    int l = tcp_listener("127.0.0.1", 0);
    if (l < 0 || dup2(l, 3000) != 3000) _exit(2);
    close(l);
    int port = local_port(3000);
    if (write(report[1], &port, sizeof port) != sizeof port) _exit(3);
  });
  ASSERT_EQ(read(report[0], &high_port, sizeof high_port), static_cast<ssize_t>(sizeof high_port));
  close(report[0]);
  close(report[1]);
  std::string me = std::to_string(getpid());
  // The child's listener, through the table (no owner columns: no scan).
  Db db;
  for (const Row& r : db.rows("SELECT inode FROM tcp_sockets WHERE local_port = " + std::to_string(high_port)))
    high_inode = std::stoul(*r[0]);
  ASSERT_NE(high_inode, 0u);

  // Kernel layer: the walk for these sockets only, the whole-machine BPF
  // scan and the /proc scan agree on every listener's lowest owner.
  std::vector<uint64_t> wanted{inode_of(mine), inode_of(shared), inode_of(dupped), high_inode};
  std::vector<kernel::SocketOwner> few;
  kernel::set_owner_mode(kernel::OwnerMode::Bpf);
  ASSERT_TRUE(kernel::lowest_owners_bpf(wanted, few));  // the filtered walk served
  auto whole = kernel::SocketOwners::scan();
  kernel::set_owner_mode(kernel::OwnerMode::Proc);
  auto proc = kernel::SocketOwners::scan();
  kernel::set_owner_mode(kernel::OwnerMode::Auto);
  std::map<uint64_t, std::string> found;
  for (const auto& o : few) found[o.inode] = std::to_string(o.pid) + ":" + std::to_string(o.fd);
  EXPECT_EQ(found, (std::map<uint64_t, std::string>{{inode_of(mine), me + ":" + std::to_string(mine)},
                                                     {inode_of(shared), std::to_string(std::min(getpid(), holder.pid)) + ":" + std::to_string(shared)},
                                                     {inode_of(dupped), me + ":" + std::to_string(dupped)},
                                                     {high_inode, std::to_string(holder.pid) + ":3000"}}));
  for (uint64_t inode : wanted) {
    auto filtered = kernel::SocketOwners::scan_sockets({&inode, 1});
    EXPECT_FALSE(filtered.whole());
    EXPECT_EQ(filtered.lowest_pid(inode), whole.lowest_pid(inode)) << inode;
    EXPECT_EQ(filtered.lowest_pid(inode), proc.lowest_pid(inode)) << inode;
  }

  // SQL: the LISTEN rows' owners through the filtered walk (a fresh
  // connection loads only task_owners), through /proc, and from ss -p.
  std::string sql = "SELECT local_port, pid, process FROM tcp_sockets WHERE state = 'LISTEN' ORDER BY 1";
  std::vector<Row> bpf_rows;
  {
    Db fresh;
    bpf_rows = rows_through(fresh, "bpf", sql);
    EXPECT_TRUE(holds_program("task_owners"));
    EXPECT_FALSE(holds_program("task_sockets"));
  }
  EXPECT_EQ(bpf_rows, rows_through(db, "proc", sql));
  db.rows("SELECT netsql_owner_source('auto')");
  ASSERT_EQ(bpf_rows.size(), 4u);
  std::map<std::string, std::string> oracle = ss_lowest_owners(), ours;
  for (const Row& r : bpf_rows)
    ours[*r[0]] = *r[1] + ":" + db.rows("SELECT min(fd) FROM socket_owners WHERE pid = " + *r[1] +
                                        " AND inode = (SELECT inode FROM tcp_sockets WHERE state = 'LISTEN' AND "
                                        "local_port = " + *r[0] + ")")[0][0].value_or("");
  EXPECT_EQ(ours, oracle);

  for (int fd : others) close(fd);
  for (int fd : {mine, shared, dupped, dups[0], dups[1], established}) close(fd);
}

// Programs named task_sockets or task_owners (ours) and iterator links this
// process holds, through its own fds (other test processes load theirs at
// the same time, so the machine-wide counts are not ours to compare).
bool is_ours(const char* name) { return std::string(name) == "task_sockets" || std::string(name) == "task_owners"; }

bool is_task_sockets(__u32 prog_id) {
  int fd = bpf_prog_get_fd_by_id(prog_id);
  if (fd < 0) return false;
  bpf_prog_info info{};
  __u32 len = sizeof info;
  bool yes = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_ours(info.name);
  close(fd);
  return yes;
}

std::pair<int, int> loaded_iterators() {
  std::set<__u32> progs;
  int links = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec).string();
    int fd = std::atoi(entry.path().filename().c_str());
    if (target == "anon_inode:bpf-prog") {
      bpf_prog_info info{};
      __u32 len = sizeof info;
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_ours(info.name)) progs.insert(info.id);
    } else if (target == "anon_inode:bpf_link") {
      bpf_link_info info{};
      __u32 len = sizeof info;
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_ITER) {
        ++links;
        if (is_task_sockets(info.prog_id)) progs.insert(info.prog_id);
      }
    }
  }
  return {static_cast<int>(progs.size()), links};
}

bool back_to(std::pair<int, int> want, int fds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (loaded_iterators() != want || open_fd_count() != fds) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST_F(Owners, ThousandQueriesLeakNoProgramLinkOrFd) {
  int l = tcp_listener("127.0.0.1", 0);  // a row, so that owners are looked up
  auto before = loaded_iterators();
  int fds = open_fd_count();
  {
    Db db;
    db.rows("SELECT netsql_owner_source('bpf')");
    // Few rows: the owners of those sockets (task_owners); socket_owners:
    // every socket fd (task_sockets).
    for (int i = 0; i < 1000; ++i) db.rows(i % 2 ? "SELECT count(pid) FROM tcp_sockets" : "SELECT count(*) FROM socket_owners");
    EXPECT_EQ(db.rows("SELECT netsql_owner_source()"), (std::vector<Row>{{"bpf"}}));
    // Loaded once for the connection, reused by every query.
    EXPECT_EQ(loaded_iterators(), std::make_pair(before.first + 2, before.second + 2));
  }
  EXPECT_TRUE(back_to(before, fds)) << "after closing: " << loaded_iterators().first << " programs, "
                                    << open_fd_count() << " fds; before: " << before.first << ", " << fds;
  // Connections opened and closed one after another, and one-off scans
  // without any connection, load and release their own.
  for (int i = 0; i < 50; ++i) {
    Db db;
    db.rows("SELECT count(pid) FROM tcp_sockets");
  }
  uint64_t inode = inode_of(l);
  for (int i = 0; i < 20; ++i) {
    kernel::SocketOwners::scan();
    kernel::SocketOwners::scan_sockets({&inode, 1});
  }
  EXPECT_EQ(kernel::last_owner_source(), kernel::OwnerSource::Bpf);
  EXPECT_TRUE(back_to(before, fds));
  close(l);
}

}  // namespace
}  // namespace netsql::test
