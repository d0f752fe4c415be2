// udp_sockets against sockets the test creates in a private namespace.
#include <sys/socket.h>
#include <unistd.h>

#include "support.h"

namespace netsql::test {
namespace {

using UdpSockets = NetnsTest;

TEST_F(UdpSockets, BoundAndConnectedRowsAreExact) {
  int a = udp_socket("127.0.0.1", 0);
  int b = udp_socket("127.0.0.1", 0, "127.0.0.1", local_port(a));
  int c = udp_socket("::", 0);
  ASSERT_EQ(send(b, "ping", 4, 0), 4);
  Db db;
  auto rows = db.rows("SELECT family, local_address, local_port, remote_address, remote_port, state, recv_q, uid, inode "
                      "FROM udp_sockets ORDER BY family, state, local_port");
  ASSERT_EQ(rows.size(), 3u);
  auto s = [](long long v) { return std::to_string(v); };
  EXPECT_EQ(rows[0], (Row{"inet", "127.0.0.1", s(local_port(b)), "127.0.0.1", s(local_port(a)), "ESTABLISHED", "0",
                          s(getuid()), s(inode_of(b))}));
  // recv_q counts the skb's truesize, not the payload: just non-zero.
  EXPECT_EQ(rows[1][2], s(local_port(a)));
  EXPECT_EQ(rows[1][5], "UNCONN");
  EXPECT_NE(rows[1][6], "0");
  EXPECT_EQ(rows[2], (Row{"inet6", "::", s(local_port(c)), "::", "0", "UNCONN", "0", s(getuid()), s(inode_of(c))}));

  // What the kernel was asked for and sent, not what SQLite kept.
  const std::string kScan = "requests, state_mask, kernel_rows, bytecode_columns, extensions";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM udp_sockets WHERE state = 'ESTABLISHED'"), 1);
  EXPECT_EQ(last_scan(db, kScan, "udp_sockets"), (Row{"2", "2", "1", "", ""}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM udp_sockets WHERE local_port = " + s(local_port(a))), 1);
  EXPECT_EQ(last_scan(db, kScan, "udp_sockets"), (Row{"2", "130", "1", "local_port", ""}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM udp_sockets WHERE drops = 0 AND rcvbuf > 0 AND family = 'inet'"), 2);
  EXPECT_EQ(last_scan(db, kScan, "udp_sockets"), (Row{"1", "130", "2", "", "memory"}));
  EXPECT_EQ(db.error("SELECT * FROM udp_sockets WHERE state = 'LISTEN'"),
            "udp_sockets: invalid state 'LISTEN' (expected ESTABLISHED or UNCONN)");

  std::set<Tuple> ours;
  for (auto& r : db.rows("SELECT state, local_address, local_port, remote_address, remote_port FROM udp_sockets"))
    ours.emplace(*r[0], *r[1], std::stoi(*r[2]), *r[3], std::stoi(*r[4]));
  auto theirs = ss_tuples("-ua");
  std::set<Tuple> mapped;  // ss says ESTAB/UNCONN for UDP
  for (auto t : theirs) mapped.insert(t);
  EXPECT_EQ(ours, mapped);
  for (int fd : {a, b, c}) close(fd);
}

}  // namespace
}  // namespace netsql::test
