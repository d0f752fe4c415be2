// tcp_sockets against sockets the test creates in a private namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "support.h"

namespace netsql::test {
namespace {

using TcpSockets = NetnsTest;

std::string str(long long v) { return std::to_string(v); }

// `count` ports from `first`, `step` apart, comma separated.
std::string port_list(int first, int count, int step) {
  std::string s;
  for (int i = 0; i < count; ++i) s += (i ? "," : "") + str(first + i * step);
  return s;
}

// The first column of every row, as integers.
std::vector<int> ints(const std::vector<Row>& rows) {
  std::vector<int> out;
  for (const auto& r : rows) out.push_back(std::stoi(*r[0]));
  return out;
}

TEST_F(TcpSockets, ListenerRowIsExact) {
  int l = tcp_listener("127.0.0.1", 0, 7);
  int port = local_port(l);
  Db db;
  auto rows = db.rows("SELECT family, local_address, local_port, remote_address, remote_port, state, recv_q, send_q, "
                      "uid, inode, interface, timer FROM tcp_sockets");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{"inet", "127.0.0.1", str(port), "0.0.0.0", "0", "LISTEN", "0", "7", str(getuid()),
                          str(inode_of(l)), std::nullopt, "off"}));
  EXPECT_EQ(db.types("SELECT local_port, uid, inode, cookie, state FROM tcp_sockets"),
            (std::vector<std::string>{"INTEGER", "INTEGER", "INTEGER", "INTEGER", "TEXT"}));
  close(l);
}

TEST_F(TcpSockets, EstablishedPairShowsUnreadData) {
  int l = tcp_listener("127.0.0.1", 0);
  int port = local_port(l);
  int c = tcp_connect("127.0.0.1", port);
  int s = tcp_accept(l);
  const char msg[] = "hello, netsql";
  ASSERT_EQ(write(c, msg, 13), 13);
  Db db;
  ASSERT_TRUE(wait_until([&] { return db.scalar("SELECT count(*) FROM tcp_sockets WHERE recv_q = 13") == 1; }));
  auto rows = db.rows(
      "SELECT local_port, remote_port, recv_q, inode, bytes_received, bytes_acked > 0, congestion IS NOT NULL, "
      "mss > 0, rtt_us IS NOT NULL FROM tcp_sockets WHERE state = 'ESTABLISHED' ORDER BY local_port = " + str(port) + " DESC");
  ASSERT_EQ(rows.size(), 2u);
  // The server end holds the unread bytes.
  EXPECT_EQ(rows[0], (Row{str(port), str(local_port(c)), "13", str(inode_of(s)), "13", "0", "1", "1", "1"}));
  EXPECT_EQ(rows[1], (Row{str(local_port(c)), str(port), "0", str(inode_of(c)), "0", "1", "1", "1", "1"}));
  close(s);
  close(c);
  close(l);
}

TEST_F(TcpSockets, TimeWaitAfterActiveClose) {
  int l = tcp_listener("127.0.0.1", 0);
  int port = local_port(l);
  int c = tcp_connect("127.0.0.1", port);
  int s = tcp_accept(l);
  int cport = local_port(c);
  close(c);  // client closes first: it ends in TIME_WAIT
  close(s);
  Db db;
  ASSERT_TRUE(wait_until([&] { return db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = 'TIME_WAIT'") == 1; }));
  auto rows = db.rows("SELECT local_port, remote_port, inode, timer FROM tcp_sockets WHERE state = 'TIME_WAIT'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{str(cport), str(port), "0", "timewait"}));
  close(l);
}

TEST_F(TcpSockets, Ipv6ListenerAndFamilyPushdown) {
  int l4 = tcp_listener("127.0.0.1", 0);
  int l6 = tcp_listener("::1", 0);
  Db db;
  auto rows = db.rows("SELECT family, local_address, local_port FROM tcp_sockets WHERE family = 'inet6'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{"inet6", "::1", str(local_port(l6))}));
  // Only the inet6 dump was requested, so the kernel sent only its socket.
  EXPECT_EQ(last_scan(db, "requests, kernel_rows"), (Row{"1", "1"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE family IN ('inet', 'inet6')"), 2);
  EXPECT_EQ(last_scan(db, "requests, kernel_rows"), (Row{"2", "2"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets"), 2);
  // A scan that stops early reads no further: the inet6 dump never starts.
  EXPECT_EQ(db.rows("SELECT local_port FROM tcp_sockets LIMIT 1"), (std::vector<Row>{{str(local_port(l4))}}));
  EXPECT_EQ(last_scan(db, "requests, kernel_rows"), (Row{"1", "1"}));
  close(l4);
  close(l6);
}

uint16_t checksum(const void* data, size_t len, uint32_t sum = 0) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (len & 1) sum += p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// A SYN from 10.88.0.2, an address behind a tun device that never answers:
// the listener's request socket stays half-open (kernel NEW_SYN_RECV).
void send_syn(int tun, uint16_t sport, uint16_t dport) {
  struct {
    iphdr ip;
    tcphdr tcp;
  } __attribute__((packed)) pkt{};
  pkt.ip.version = 4;
  pkt.ip.ihl = 5;
  pkt.ip.ttl = 64;
  pkt.ip.protocol = IPPROTO_TCP;
  pkt.ip.tot_len = htons(sizeof pkt);
  inet_pton(AF_INET, "10.88.0.2", &pkt.ip.saddr);
  inet_pton(AF_INET, "10.88.0.1", &pkt.ip.daddr);
  pkt.ip.check = htons(checksum(&pkt.ip, sizeof pkt.ip));
  pkt.tcp.source = htons(sport);
  pkt.tcp.dest = htons(dport);
  pkt.tcp.seq = htonl(12345);
  pkt.tcp.doff = 5;
  pkt.tcp.syn = 1;
  pkt.tcp.window = htons(65535);
  struct {
    uint32_t src, dst;
    uint8_t zero, proto;
    uint16_t len;
  } __attribute__((packed)) pseudo{pkt.ip.saddr, pkt.ip.daddr, 0, IPPROTO_TCP, htons(sizeof pkt.tcp)};
  uint32_t sum = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(&pseudo);
  for (size_t i = 0; i < sizeof pseudo; i += 2) sum += (p[i] << 8) | p[i + 1];
  pkt.tcp.check = htons(checksum(&pkt.tcp, sizeof pkt.tcp, sum));
  ASSERT_EQ(write(tun, &pkt, sizeof pkt), static_cast<ssize_t>(sizeof pkt));
}

TEST_F(TcpSockets, HalfOpenConnectionIsSynRecv) {
  int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun < 0) GTEST_SKIP() << "no /dev/net/tun: " << std::strerror(errno);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strcpy(ifr.ifr_name, "nsqtun0");
  ASSERT_EQ(ioctl(tun, TUNSETIFF, &ifr), 0) << std::strerror(errno);
  sh("ip addr add 10.88.0.1/24 dev nsqtun0 && ip link set nsqtun0 up");
  int l = tcp_listener("0.0.0.0", 0);
  int port = local_port(l);
  send_syn(tun, 40001, static_cast<uint16_t>(port));
  send_syn(tun, 40002, static_cast<uint16_t>(port));
  Db db;
  ASSERT_TRUE(wait_until([&] { return db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = 'SYN_RECV'") == 2; }));
  auto rows = db.rows("SELECT local_address, local_port, remote_address, remote_port FROM tcp_sockets "
                      "WHERE state = 'SYN_RECV' ORDER BY remote_port");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Row{"10.88.0.1", str(port), "10.88.0.2", "40001"}));
  EXPECT_EQ(rows[1], (Row{"10.88.0.1", str(port), "10.88.0.2", "40002"}));
  // The SYN-flood question: half-open connections per listening port and peer.
  auto flood = db.rows("SELECT local_port, remote_address, count(*) FROM tcp_sockets WHERE state = 'SYN_RECV' "
                       "GROUP BY 1, 2");
  EXPECT_EQ(flood, (std::vector<Row>{{str(port), "10.88.0.2", "2"}}));
  std::set<Tuple> ours;
  for (auto& r : db.rows("SELECT state, local_address, local_port, remote_address, remote_port FROM tcp_sockets"))
    ours.emplace(*r[0], *r[1], std::stoi(*r[2]), *r[3], std::stoi(*r[4]));
  EXPECT_EQ(ours, ss_tuples("-ta"));
  close(l);
  close(tun);
}

TEST_F(TcpSockets, BoundSocketsOnlyWhenAskedFor) {
  int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(b, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  int l = tcp_listener("127.0.0.1", 0);
  Db db;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets"), 1);
  // Only a state mask that reaches the kernel with bit 13 set can return
  // this socket: the rows prove the pushdown.
  auto rows = db.rows("SELECT local_port, inode FROM tcp_sockets WHERE state = 'BOUND'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{str(local_port(b)), str(inode_of(b))}));
  EXPECT_EQ(last_scan(db, "state_mask, kernel_rows"), (Row{"8192", "1"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state IN ('BOUND', 'LISTEN')"), 2);
  close(b);
  close(l);
}

TEST_F(TcpSockets, StateConstraintsReachTheKernel) {
  int l = tcp_listener("127.0.0.1", 0);
  int c = tcp_connect("127.0.0.1", local_port(l));
  int s = tcp_accept(l);
  Db db;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = 'LISTEN'"), 1);
  // The kernel was asked for LISTEN (1 << 10) alone and sent the listener alone.
  EXPECT_EQ(last_scan(db, "state_mask, kernel_rows"), (Row{"1024", "1"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state IN ('LISTEN', 'ESTABLISHED')"), 3);
  EXPECT_EQ(last_scan(db, "state_mask, kernel_rows"), (Row{"1026", "3"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = 'SYN_RECV'"), 0);
  EXPECT_EQ(last_scan(db, "state_mask, kernel_rows"), (Row{str((1 << 3) | (1 << 12)), "0"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets"), 3);
  EXPECT_EQ(last_scan(db, "state_mask, kernel_rows"), (Row{"8190", "3"}));  // every state but BOUND
  auto plan = db.rows("EXPLAIN QUERY PLAN SELECT * FROM tcp_sockets WHERE state IN ('LISTEN', 'ESTABLISHED')");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0][3]->find("state IN"), std::string::npos) << *plan[0][3];
  plan = db.rows("EXPLAIN QUERY PLAN SELECT * FROM tcp_sockets WHERE state = 'LISTEN' AND local_port = 80");
  EXPECT_NE(plan[0][3]->find("state EQ"), std::string::npos) << *plan[0][3];
  EXPECT_NE(plan[0][3]->find("local_port EQ"), std::string::npos) << *plan[0][3];
  for (int fd : {s, c, l}) close(fd);
}

TEST_F(TcpSockets, PortFiltersRunInTheKernel) {
  int l1 = tcp_listener("127.0.0.1", 0), l2 = tcp_listener("127.0.0.1", 0), l3 = tcp_listener("::1", 0);
  int p1 = local_port(l1), p2 = local_port(l2), p3 = local_port(l3);
  int c = tcp_connect("127.0.0.1", p1);
  int s = tcp_accept(l1);
  Db db;
  // Of the five sockets the kernel sends only those that match: SQLite,
  // which re-checks every row, cannot make up for a filter left behind.
  const std::string kScan = "requests, kernel_rows, bytecode_columns, sqlite_only_columns";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_port = " + str(p1)), 2);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "2", "local_port", ""}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_port IN (" + str(p2) + ", " + str(p3) + ", 1)"), 2);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "2", "local_port", ""}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE remote_port = " + str(p1)), 1);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "1", "remote_port", ""}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_port = " + str(p1) + " AND remote_port = " +
                      str(local_port(c))),
            1);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "1", "local_port,remote_port", ""}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_port = '" + str(p2) + "'"), 1);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "1", "local_port", ""}));
  // No port can match: the kernel is asked nothing.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_port = 70000"), 0);
  EXPECT_EQ(last_scan(db, kScan), (Row{"0", "0", "", ""}));
  // A join drives the filter once per outer row.
  long long scans = std::stoll(*last_scan(db, "scans")[0]);
  EXPECT_EQ(db.scalar("WITH p(port) AS (VALUES (" + str(p1) + "), (" + str(p3) +
                      ")) SELECT count(*) FROM p JOIN tcp_sockets t ON t.local_port = p.port"),
            3);
  EXPECT_EQ(last_scan(db, "scans"), (Row{str(scans + 2)}));
  // In a self-join the outer scan runs on after the inner one began: the
  // stats stay those of the scan that began last (the inner, on p2).
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets a CROSS JOIN tcp_sockets b WHERE a.local_port = " + str(p1) +
                      " AND b.local_port = " + str(p2)),
            2);
  EXPECT_EQ(last_scan(db, "kernel_rows"), Row{"1"});
  for (int fd : {s, c, l1, l2, l3}) close(fd);
}

TEST_F(TcpSockets, AddressFiltersRunInTheKernel) {
  int a = tcp_listener("127.0.0.1", 0), b = tcp_listener("127.0.0.2", 0), c6 = tcp_listener("::1", 0);
  int c = tcp_connect("127.0.0.2", local_port(b));
  int s = tcp_accept(b);
  Db db;
  const std::string kScan = "requests, kernel_rows, bytecode_columns";
  // The client's end took source address 127.0.0.1.
  EXPECT_EQ(db.rows("SELECT local_port FROM tcp_sockets WHERE local_address = '127.0.0.1' ORDER BY state = 'LISTEN' DESC"),
            (std::vector<Row>{{str(local_port(a))}, {str(local_port(c))}}));
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "2", "local_address"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_address IN ('127.0.0.2', '::1')"), 3);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "3", "local_address"}));
  EXPECT_EQ(db.rows("SELECT local_port FROM tcp_sockets WHERE remote_address = '127.0.0.2'"),
            (std::vector<Row>{{str(local_port(c))}}));
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "1", "remote_address"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_address = '127.0.0.2' AND local_port = " +
                      str(local_port(b)) + " AND state = 'ESTABLISHED'"),
            1);
  EXPECT_EQ(last_scan(db, kScan + ", state_mask"), (Row{"2", "1", "local_port,local_address", "2"}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_address = 'localhost'"), 0);  // not an address
  EXPECT_EQ(last_scan(db, kScan), (Row{"0", "0", ""}));
  // Not canonical text: the kernel matches ::1 and SQLite's text comparison drops it.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_address = '::0001'"), 0);
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "1", "local_address"}));
  auto plan = db.rows("EXPLAIN QUERY PLAN SELECT * FROM tcp_sockets WHERE local_address = '127.0.0.1'");
  EXPECT_NE(plan[0][3]->find("local_address EQ"), std::string::npos) << *plan[0][3];
  for (int fd : {a, b, c6, c, s}) close(fd);
}

// Pushdown may only save work: IN lists too long for a kernel filter are
// left to SQLite, and every list gives exactly the matching rows (before,
// 1..16400 gave no rows, 5,463 ports "Invalid argument" and 17,800 "Message
// too long").
TEST_F(TcpSockets, LargeInListsGiveExactRows) {
  const std::vector<int> v4 = {1001, 1002, 1003, 1004, 1005, 1006, 30001, 40000, 65535};
  std::vector<int> fds;
  for (int p : v4) fds.push_back(tcp_listener("127.0.0.1", p));
  fds.push_back(tcp_listener("::1", 1003));
  std::vector<int> all = v4;
  all.push_back(1003);
  std::sort(all.begin(), all.end());
  Db db;
  const std::string kScan = "kernel_rows, bytecode_columns, bytecode_bytes, sqlite_only_columns";
  struct Case {
    int first, count, step;
    Row scan;  // kernel_rows etc. for the filter this list makes
  };
  const Case cases[] = {
      {1, 16400, 1, {"7", "local_port", "16", ""}},      // one range test
      {0, 65536, 1, {"10", "local_port", "8", ""}},      // every port: one (always true) lower bound
      {321, 341, 2, {"1", "local_port", "4088", ""}},    // the longest list of single ports in the budget
      {321, 342, 2, {"10", "", "0", "local_port"}},      // one more: SQLite filters
      {1, 5463, 2, {"10", "", "0", "local_port"}},
      {1, 17800, 3, {"10", "", "0", "local_port"}},
      {2, 20000, 3, {"10", "", "0", "local_port"}},
      {0, 32768, 2, {"10", "", "0", "local_port"}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(str(k.count) + " ports from " + str(k.first) + " step " + str(k.step));
    std::vector<int> expected;
    for (int p : all)
      if (p >= k.first && (p - k.first) % k.step == 0 && (p - k.first) / k.step < k.count) expected.push_back(p);
    EXPECT_EQ(ints(db.rows("SELECT local_port FROM tcp_sockets WHERE local_port IN (" + port_list(k.first, k.count, k.step) +
                           ") ORDER BY local_port")),
              expected);
    EXPECT_EQ(last_scan(db, kScan), k.scan);
  }

  // Addresses: 7,000 IPv4 ones are too many; a port beside them still
  // reaches the kernel.
  std::string v4_list, v6_list;
  for (int i = 0; i < 7000; ++i) {
    v4_list += (i ? ",'127.0." : "'127.0.") + str(i / 250) + "." + str(i % 250 + 1) + "'";
    v6_list += (i ? ",'fd00::" : "'fd00::") + str(i + 1) + "'";
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_address IN (" + v4_list + ")"), 9);
  EXPECT_EQ(last_scan(db, kScan), (Row{"10", "", "0", "local_address"}));
  EXPECT_EQ(db.rows("SELECT local_address FROM tcp_sockets WHERE local_port = 1003 AND local_address IN ('::1'," + v6_list + ")"),
            (std::vector<Row>{{"::1"}}));
  EXPECT_EQ(last_scan(db, kScan), (Row{"2", "local_port", "8", "local_address"}));

  // Remote ports, and a long list beside a short one.
  int c = tcp_connect("127.0.0.1", 1001);
  int s = tcp_accept(fds[0]);
  int cport = local_port(c);
  std::vector<int> expected = {cport};  // c's peer is 1001
  if (cport % 2 == 1 && cport <= 39999) expected.push_back(1001);  // s's peer is c
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ints(db.rows("SELECT local_port FROM tcp_sockets WHERE remote_port IN (" + port_list(1, 20000, 2) +
                         ") ORDER BY local_port")),
            expected);
  EXPECT_EQ(last_scan(db, "bytecode_columns, sqlite_only_columns"), (Row{"", "remote_port"}));
  expected.clear();
  if (cport % 3 == 2 && cport <= 2 + 3 * 19999) expected.push_back(cport);  // the list ends at 59999
  EXPECT_EQ(ints(db.rows("SELECT local_port FROM tcp_sockets WHERE remote_port = 1001 AND local_port IN (" +
                         port_list(2, 20000, 3) + ")")),
            expected);
  EXPECT_EQ(last_scan(db, kScan), (Row{"1", "remote_port", "8", "local_port"}));
  for (int fd : fds) close(fd);
  close(c);
  close(s);
}

// Which sock_diag extensions a dump asks for follows from the columns the
// query reads (Column::needs), nothing more.
TEST_F(TcpSockets, ColumnsAskOnlyForTheExtensionsTheyRead) {
  int l = tcp_listener("127.0.0.1", 0);
  Db db;
  auto asked = [&](const std::string& select) {
    EXPECT_EQ(db.rows("SELECT " + select).size(), 1u) << select;
    return last_scan(db, "extensions");
  };
  EXPECT_EQ(asked("family, local_address, local_port, remote_address, remote_port, state, recv_q, send_q, uid, inode, "
                  "cookie, interface, timer, timer_expires_ms, retransmits, pid, process FROM tcp_sockets"),
            Row{""});
  for (const char* col : {"rtt_us", "rttvar_us", "rto_ms", "cwnd", "ssthresh", "mss", "pmtu", "unacked", "lost",
                          "retrans_total", "bytes_sent", "bytes_acked", "bytes_received", "bytes_retrans", "segs_out",
                          "segs_in", "delivery_rate_bps", "pacing_rate_bps", "last_send_ms", "last_recv_ms",
                          "last_ack_ms", "busy_ms"})
    EXPECT_EQ(asked(std::string(col) + " FROM tcp_sockets"), Row{"tcp_info"}) << col;
  EXPECT_EQ(asked("congestion FROM tcp_sockets"), Row{"congestion"});
  for (const char* col : {"rmem", "wmem", "rcvbuf", "sndbuf", "drops"})
    EXPECT_EQ(asked(std::string(col) + " FROM tcp_sockets"), Row{"memory"}) << col;
  EXPECT_EQ(asked("local_port FROM tcp_sockets WHERE cwnd > 0"), Row{"tcp_info"});  // read by WHERE
  EXPECT_EQ(asked("* FROM tcp_sockets"), Row{"tcp_info,congestion,memory"});
  EXPECT_EQ(db.rows("SELECT rtt_us IS NOT NULL, congestion IS NOT NULL, rcvbuf > 0 FROM tcp_sockets"),
            (std::vector<Row>{{"1", "1", "1"}}));
  close(l);
}

// netsql_stats is per thread; before a thread's first scan of a table it
// says so with 0 scans and NULLs.
TEST_F(TcpSockets, StatsArePerThread) {
  Db db;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets"), 0);
  EXPECT_EQ(last_scan(db, "scans, requests, kernel_rows"), (Row{"1", "2", "0"}));
  std::vector<Row> fresh;
  std::thread([&] { fresh = db.rows("SELECT * FROM netsql_stats"); }).join();
  Row never{"0", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  Row tcp{"tcp_sockets"}, udp{"udp_sockets"};
  tcp.insert(tcp.end(), never.begin(), never.end());
  udp.insert(udp.end(), never.begin(), never.end());
  EXPECT_EQ(fresh, (std::vector<Row>{tcp, udp}));
}

TEST_F(TcpSockets, MatchesSs) {
  int l4 = tcp_listener("127.0.0.1", 0), l6 = tcp_listener("::", 0);
  int c1 = tcp_connect("127.0.0.1", local_port(l4)), s1 = tcp_accept(l4);
  int c2 = tcp_connect("::1", local_port(l6)), s2 = tcp_accept(l6);
  int c3 = tcp_connect("127.0.0.1", local_port(l6)), s3 = tcp_accept(l6);  // v4-mapped
  close(c1);
  close(s1);  // c1 -> TIME_WAIT
  Db db;
  ASSERT_TRUE(wait_until([&] { return db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = 'TIME_WAIT'") == 1; }));
  std::set<Tuple> ours;
  for (auto& r : db.rows("SELECT state, local_address, local_port, remote_address, remote_port FROM tcp_sockets"))
    ours.emplace(*r[0], *r[1], std::stoi(*r[2]), *r[3], std::stoi(*r[4]));
  EXPECT_EQ(ours.size(), 7u);
  EXPECT_EQ(ours, ss_tuples("-ta"));
  for (int fd : {l4, l6, c2, s2, c3, s3}) close(fd);
}

TEST_F(TcpSockets, MemoryAndInterfaceColumns) {
  int l = tcp_listener("127.0.0.1", 0);
  int rcvbuf = 65536;
  ASSERT_EQ(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
  socklen_t len = sizeof rcvbuf;
  getsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
  ASSERT_EQ(setsockopt(l, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3), 0);
  Db db;
  auto rows = db.rows("SELECT rcvbuf, rmem, drops, interface FROM tcp_sockets");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{str(rcvbuf), "0", "0", "lo"}));
  close(l);
}

TEST_F(TcpSockets, WrongTypesMatchNothing) {
  int l = tcp_listener("127.0.0.1", 0);
  Db db;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE local_port = 'abc'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = 42"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state = NULL"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE family = x'00'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tcp_sockets WHERE state IN (NULL, 'LISTEN')"), 1);
  // In an IN list SQLite first gives 42 the column's TEXT affinity: '42'.
  EXPECT_NE(db.error("SELECT count(*) FROM tcp_sockets WHERE state IN (42, 'LISTEN')").find("invalid state '42'"),
            std::string::npos);
  close(l);
}

TEST_F(TcpSockets, InvalidNamesAreClearErrors) {
  Db db;
  EXPECT_EQ(db.error("SELECT * FROM tcp_sockets WHERE state = 'LISTENING'"),
            "tcp_sockets: invalid state 'LISTENING' (expected one of ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, "
            "FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING, BOUND)");
  EXPECT_NE(db.error("SELECT * FROM tcp_sockets WHERE state = 'NEW_SYN_RECV'").find("reported as SYN_RECV"),
            std::string::npos);
  EXPECT_EQ(db.error("SELECT * FROM tcp_sockets WHERE family = 'ipv4'"),
            "tcp_sockets: invalid family 'ipv4' (expected 'inet' or 'inet6')");
}

TEST_F(TcpSockets, KernelRefusalIsAnSqlErrorNamingTable) {
  Db db;
  rlimit old{};
  getrlimit(RLIMIT_NOFILE, &old);
  rlimit tight = old;
  int lowest_free = dup(0);
  close(lowest_free);
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);  // no fd left for the netlink socket
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::string err = db.error("SELECT count(*) FROM tcp_sockets");
  setrlimit(RLIMIT_NOFILE, &old);
  EXPECT_EQ(err, "tcp_sockets: netlink socket: Too many open files");
}

TEST_F(TcpSockets, NoFdLeaksAcrossManyQueries) {
  int l = tcp_listener("127.0.0.1", 0);
  int c = tcp_connect("127.0.0.1", local_port(l));
  int s = tcp_accept(l);
  Db db;
  db.rows("SELECT interface FROM tcp_sockets");  // warm up
  int before = open_fd_count();
  for (int i = 0; i < 1000; ++i) {
    db.rows("SELECT local_port FROM tcp_sockets LIMIT 1");  // abandons the dump midway
    db.rows("SELECT count(*), max(rtt_us), max(interface) FROM tcp_sockets WHERE state IN ('LISTEN', 'ESTABLISHED')");
  }
  EXPECT_EQ(open_fd_count(), before);
  for (int fd : {s, c, l}) close(fd);
}

}  // namespace
}  // namespace netsql::test
