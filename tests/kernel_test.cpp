// The kernel layer on its own: attribute parsing over recorded and damaged
// kernel replies, bytecode layout, state names, netlink error handling.
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "kernel/attrs.h"
#include "kernel/netlink.h"
#include "kernel/sock_diag.h"
#include "support.h"

namespace netsql::kernel {
namespace {

std::vector<uint8_t> fixture(const std::string& name) {
  std::ifstream in(std::string(NETSQL_SOURCE_DIR) + "/tests/fixtures/" + name);
  std::string hex;
  in >> hex;
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A message in a heap block of exactly its own size, so ASan catches any
// read past the end.
std::unique_ptr<uint8_t[]> exact_copy(const std::vector<uint8_t>& bytes, size_t n) {
  std::unique_ptr<uint8_t[]> p(new uint8_t[n]);
  std::memcpy(p.get(), bytes.data(), n);
  return p;
}

TEST(SockDiagParse, RecordedListenerReply) {
  auto bytes = fixture("sock_diag_tcp_listen.hex");
  ASSERT_GT(bytes.size(), sizeof(nlmsghdr) + sizeof(inet_diag_msg));
  InetSock s;
  ASSERT_TRUE(parse_inet_sock(reinterpret_cast<const nlmsghdr*>(bytes.data()), s));
  EXPECT_EQ(s.local_port(), 2024);
  EXPECT_EQ(s.local_address(), "127.0.0.1");
  EXPECT_EQ(s.remote_address(), "0.0.0.0");
  EXPECT_EQ(s.msg.idiag_state, kListen);
  EXPECT_EQ(s.msg.idiag_wqueue, 5u);  // backlog
  const auto& a = s.attributes();
  EXPECT_FALSE(a.malformed());
  ASSERT_TRUE(a.str(INET_DIAG_CONG));
  EXPECT_FALSE(a.str(INET_DIAG_CONG)->empty());
  auto info = copy_partial<tcp_info>(a.raw(INET_DIAG_INFO));
  EXPECT_TRUE(info.has(offsetof(tcp_info, tcpi_rcv_mss) + 4));
  EXPECT_EQ(info.value.tcpi_state, kListen);
  EXPECT_GE(a.raw(INET_DIAG_SKMEMINFO).size(), SK_MEMINFO_VARS * 4u);
}

TEST(SockDiagParse, EveryTruncationIsSafe) {
  auto bytes = fixture("sock_diag_tcp_listen.hex");
  for (size_t n = sizeof(nlmsghdr); n <= bytes.size(); ++n) {
    auto copy = exact_copy(bytes, n);
    auto* h = reinterpret_cast<nlmsghdr*>(copy.get());
    h->nlmsg_len = static_cast<uint32_t>(n);
    InetSock s;
    bool ok = parse_inet_sock(h, s);
    EXPECT_EQ(ok, n >= NLMSG_LENGTH(sizeof(inet_diag_msg))) << n;
    if (!ok) continue;
    const auto& a = s.attributes();
    // A cut inside an attribute drops it and says so; a tcp_info cut short
    // is kept, with fewer fields.
    auto info = copy_partial<tcp_info>(a.raw(INET_DIAG_INFO));
    EXPECT_LE(info.size, sizeof(tcp_info));
    if (a.str(INET_DIAG_CONG)) {
      EXPECT_LT(a.str(INET_DIAG_CONG)->size(), 16u);
    }
  }
}

TEST(Attrs, MalformedLengthsStopTheWalk) {
  // type 1, len 8 (ok) | type 2, len 200 (runs past the end)
  uint8_t buf[] = {8, 0, 1, 0, 1, 2, 3, 4, 200, 0, 2, 0, 9, 9, 9, 9};
  AttrTable<4> t(Bytes(buf, sizeof buf));
  EXPECT_TRUE(t.malformed());
  EXPECT_TRUE(t.has(1));
  EXPECT_FALSE(t.has(2));
  EXPECT_EQ(t.get<uint32_t>(1), 0x04030201u);
  EXPECT_FALSE(t.get<uint64_t>(1));  // payload too short for a u64

  uint8_t tiny[] = {2, 0, 1, 0};  // len below the header size
  AttrTable<4> t2(Bytes(tiny, sizeof tiny));
  EXPECT_TRUE(t2.malformed());
  EXPECT_FALSE(t2.has(1));

  uint8_t stub[] = {8, 0};  // not even a header
  AttrTable<4> t3(Bytes(stub, sizeof stub));
  EXPECT_TRUE(t3.malformed());

  uint8_t unterminated[] = {8, 0, 3, 0, 'a', 'b', 'c', 'd'};  // string without NUL
  AttrTable<4> t4(Bytes(unterminated, sizeof unterminated));
  EXPECT_FALSE(t4.malformed());
  EXPECT_EQ(t4.str(3), "abcd");

  uint8_t big_type[] = {8, 0, 99, 0, 1, 2, 3, 4};  // a type past the table is ignored
  AttrTable<4> t5(Bytes(big_type, sizeof big_type));
  EXPECT_FALSE(t5.malformed());
  EXPECT_FALSE(t5.has(99));
}

std::vector<uint8_t> ports_bc(std::vector<uint16_t> local, std::vector<uint16_t> remote) {
  InetDiagQuery q;
  q.local_ports = local;
  q.remote_ports = remote;
  return filter_bytecode(q);
}

TEST(Bytecode, PortListsCompileToAuditableJumps) {
  EXPECT_TRUE(ports_bc({}, {}).empty());
  auto one = ports_bc({80}, {});
  ASSERT_EQ(one.size(), 8u);
  inet_diag_bc_op op[2];
  std::memcpy(op, one.data(), 8);
  EXPECT_EQ(op[0].code, INET_DIAG_BC_S_EQ);
  EXPECT_EQ(op[0].yes, 8);
  EXPECT_EQ(op[0].no, 12);  // past the end: reject
  EXPECT_EQ(op[1].no, 80);

  auto both = ports_bc({80, 443}, {22});
  ASSERT_EQ(both.size(), 8u + 4 + 8 + 8);
  inet_diag_bc_op ops[7];
  std::memcpy(ops, both.data(), both.size());
  EXPECT_EQ(ops[0].no, 12);                 // 80 missed: try 443
  EXPECT_EQ(ops[2].code, INET_DIAG_BC_JMP);  // 80 matched: skip to the remote group
  EXPECT_EQ(ops[2].no, 12);
  EXPECT_EQ(ops[3].no, 28 - 12 + 4);  // 443 missed: reject
  EXPECT_EQ(ops[5].code, INET_DIAG_BC_D_EQ);
  EXPECT_EQ(ops[5].no, 8 + 4);
  EXPECT_EQ(ops[6].no, 22);
}

TEST(Bytecode, HostConditions) {
  InetDiagQuery q;
  q.local_addrs = {*parse_host("127.0.0.2"), *parse_host("::1")};
  auto bc = filter_bytecode(q);
  // {S_COND, 16, no}{AF_INET, 32, -1}{4 bytes} JMP {S_COND, 28, no}{AF_INET6, 128, -1}{16 bytes}
  ASSERT_EQ(bc.size(), 16u + 4 + 28);
  inet_diag_bc_op op;
  std::memcpy(&op, bc.data(), 4);
  EXPECT_EQ(op.code, INET_DIAG_BC_S_COND);
  EXPECT_EQ(op.yes, 16);
  EXPECT_EQ(op.no, 20);  // to the IPv6 test
  inet_diag_hostcond c;
  std::memcpy(&c, bc.data() + 4, sizeof c);
  EXPECT_EQ(c.family, AF_INET);
  EXPECT_EQ(c.prefix_len, 32);
  EXPECT_EQ(c.port, -1);
  std::memcpy(&op, bc.data() + 20, 4);
  EXPECT_EQ(op.yes, 28);
  EXPECT_EQ(op.no, 28 + 4);  // reject
  EXPECT_FALSE(parse_host("not an address"));
  EXPECT_FALSE(parse_host("1.2.3"));
}

TEST(TcpStates, NetstatSpellings) {
  EXPECT_EQ(tcp_state_name(kNewSynRecv), "SYN_RECV");
  EXPECT_EQ(tcp_state_name(kBoundInactive), "BOUND");
  EXPECT_EQ(tcp_state_name(kFinWait1), "FIN_WAIT1");
  EXPECT_EQ(tcp_state_mask("SYN_RECV"), state_bit(kSynRecv) | state_bit(kNewSynRecv));
  EXPECT_EQ(tcp_state_mask("LISTEN"), state_bit(kListen));
  EXPECT_FALSE(tcp_state_mask("listen"));
  EXPECT_FALSE(tcp_state_mask("NEW_SYN_RECV"));
  EXPECT_EQ(kDefaultTcpStates & state_bit(kBoundInactive), 0u);
  EXPECT_NE(kDefaultTcpStates & state_bit(kNewSynRecv), 0u);
}

TEST(Netlink, KernelRefusalCarriesErrno) {
  NetlinkSocket s(NETLINK_SOCK_DIAG);
  InetDiagQuery q;
  q.family = 200;  // no such address family
  q.protocol = IPPROTO_TCP;
  Request req = inet_diag_request(q);
  try {
    Dump d(s, req);
    while (d.next()) {
    }
    FAIL() << "the kernel accepted family 200";
  } catch (const NetlinkError& e) {
    EXPECT_EQ(e.error(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("Invalid argument"), std::string::npos) << e.what();
  }
  // The socket stays usable for the next request.
  q.family = AF_INET;
  Request ok = inet_diag_request(q);
  Dump d(s, ok);
  while (d.next()) {
  }
}

// The error a dump reports for one reply of `type` carrying error `code`,
// sent to its socket from a second netlink socket in the kernel's place
// (allowed in our own namespace); 0 if the dump ended without one.
int dump_error_for(uint16_t type, int32_t code) {
  NetlinkSocket reader(NETLINK_ROUTE), writer(NETLINK_ROUTE);
  Request req(RTM_GETLINK, 0);  // no NLM_F_REQUEST: the kernel answers nothing
  Dump d(reader, req);
  std::vector<uint8_t> reply(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
  nlmsghdr h{static_cast<uint32_t>(reply.size()), type, 0, 0, 0};
  std::memcpy(&h.nlmsg_seq, req.bytes().data() + offsetof(nlmsghdr, nlmsg_seq), sizeof h.nlmsg_seq);
  std::memcpy(reply.data(), &h, sizeof h);
  std::memcpy(reply.data() + NLMSG_HDRLEN, &code, sizeof code);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_pid = reader.port_id();
  EXPECT_EQ(::sendto(writer.fd(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(reply.size()));
  try {
    while (d.next()) {
    }
  } catch (const NetlinkError& e) {
    return e.error();
  }
  return 0;
}

class DumpErrors : public test::NetnsTest {};

// The kernel's error codes are -1..-4095; anything else is a malformed reply
// (EIO), never a negative errno or an overflow (found by fuzz_netlink_dump:
// -INT_MIN).
TEST_F(DumpErrors, CodesNoKernelSendsAreMalformedReplies) {
  for (uint16_t type : {uint16_t{NLMSG_DONE}, uint16_t{NLMSG_ERROR}}) {
    EXPECT_EQ(dump_error_for(type, -EPERM), EPERM) << type;
    EXPECT_EQ(dump_error_for(type, -4095), 4095) << type;
    EXPECT_EQ(dump_error_for(type, -4096), EIO) << type;
    EXPECT_EQ(dump_error_for(type, INT32_MIN), EIO) << type;
  }
  EXPECT_EQ(dump_error_for(NLMSG_ERROR, 0), 0);  // an ACK
  EXPECT_EQ(dump_error_for(NLMSG_ERROR, EPERM), EIO);
}

}  // namespace
}  // namespace netsql::kernel
