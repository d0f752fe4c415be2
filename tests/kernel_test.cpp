// The kernel layer on its own: attribute parsing over recorded and damaged
// kernel replies, bytecode layout, state names, netlink error handling, the
// owner scan at the system's thread limit.
#include <arpa/inet.h>
#include <grp.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <unordered_map>
#include <cstring>
#include <fstream>
#include <memory>

#include "kernel/attrs.h"
#include "kernel/closed_times.h"
#include "kernel/netlink.h"
#include "kernel/owners.h"
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
  return filter_bytecode(q).bytecode;
}

std::vector<inet_diag_bc_op> ops_of(const std::vector<uint8_t>& bc) {
  std::vector<inet_diag_bc_op> ops(bc.size() / sizeof(inet_diag_bc_op));
  std::memcpy(ops.data(), bc.data(), ops.size() * sizeof(inet_diag_bc_op));
  return ops;
}

// `count` ports from `first`, `step` apart.
std::vector<uint16_t> ports(int first, int count, int step) {
  std::vector<uint16_t> out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<uint16_t>(first + i * step));
  return out;
}

// Runs a TCP dump with `bytecode` in the caller's namespace; returns the
// kernel's refusal text, "" if it accepted the request.
std::string kernel_verdict(const std::vector<uint8_t>& bytecode) {
  NetlinkSocket s(NETLINK_SOCK_DIAG);
  InetDiagQuery q;
  q.family = AF_INET;
  q.protocol = IPPROTO_TCP;
  Request req = inet_diag_request(q, bytecode);
  try {
    Dump d(s, req);
    while (d.next()) {
    }
    return "";
  } catch (const NetlinkError& e) {
    return e.what();
  }
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

TEST(Bytecode, ConsecutivePortsBecomeOneRangeTest) {
  // 80..82 and 443, duplicates and order as a user may write them.
  auto bc = ports_bc({443, 82, 80, 81, 80, 443}, {});
  ASSERT_EQ(bc.size(), 16u + 4 + 8);
  auto op = ops_of(bc);
  EXPECT_EQ(op[0].code, INET_DIAG_BC_S_GE);
  EXPECT_EQ(op[0].yes, 8);
  EXPECT_EQ(op[0].no, 20);  // below 80: try 443
  EXPECT_EQ(op[1].no, 80);
  EXPECT_EQ(op[2].code, INET_DIAG_BC_S_LE);
  EXPECT_EQ(op[2].yes, 8);
  EXPECT_EQ(op[2].no, 12);  // above 82: try 443
  EXPECT_EQ(op[3].no, 82);
  EXPECT_EQ(op[4].code, INET_DIAG_BC_JMP);  // 80..82 matched: done
  EXPECT_EQ(op[4].no, 12);
  EXPECT_EQ(op[5].code, INET_DIAG_BC_S_EQ);
  EXPECT_EQ(op[5].no, 12);  // reject
  EXPECT_EQ(op[6].no, 443);

  // Every port: a run up to 65535 needs no upper bound.
  auto all = ports_bc({}, ports(0, 65536, 1));
  ASSERT_EQ(all.size(), 8u);
  auto r = ops_of(all);
  EXPECT_EQ(r[0].code, INET_DIAG_BC_D_GE);
  EXPECT_EQ(r[0].no, 8 + 4);
  EXPECT_EQ(r[1].no, 0);
}

TEST(Bytecode, ConditionsTooLongAreLeftOutLongestFirst) {
  // n single ports take 12n - 4 bytes: 341 fit the default budget, 342 not.
  ASSERT_EQ(kBytecodeBudget, 4096u);
  InetDiagQuery q;
  q.local_ports = ports(1, 341, 2);
  q.remote_ports = {22};
  auto f = filter_bytecode(q);
  EXPECT_EQ(f.bytecode.size(), 12u * 341 - 4 + 8);
  EXPECT_EQ(f.held, kLocalPorts | kRemotePorts);
  EXPECT_EQ(f.left_out, 0);
  q.local_ports = ports(1, 342, 2);
  f = filter_bytecode(q);
  EXPECT_EQ(f.held, kRemotePorts);
  EXPECT_EQ(f.left_out, kLocalPorts);
  EXPECT_EQ(f.bytecode, ports_bc({}, {22}));

  // Exactly the budget fits; a byte less does not.
  q.remote_ports.clear();
  q.local_ports = ports(1, 10, 2);
  EXPECT_EQ(filter_bytecode(q, 116).held, kLocalPorts);
  EXPECT_EQ(filter_bytecode(q, 115).left_out, kLocalPorts);
  EXPECT_TRUE(filter_bytecode(q, 115).bytecode.empty());
  EXPECT_EQ(filter_bytecode(q, 0).held, 0);

  // 300 IPv4 addresses (20 bytes each with their JMP) and 200 IPv6 ones
  // (32): the longer group goes first, then the next while still too long.
  InetDiagQuery h;
  for (int i = 0; i < 300; ++i) h.local_addrs.push_back(*parse_host("10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200)));
  for (int i = 0; i < 200; ++i) h.remote_addrs.push_back(*parse_host("fd00::" + std::to_string(i + 1)));
  h.remote_ports = {443};
  f = filter_bytecode(h, 20 * 300 - 4 + 8);
  EXPECT_EQ(f.held, kLocalAddrs | kRemotePorts);
  EXPECT_EQ(f.left_out, kRemoteAddrs);
  f = filter_bytecode(h);
  EXPECT_EQ(f.held, kRemotePorts);
  EXPECT_EQ(f.left_out, kLocalAddrs | kRemoteAddrs);
  // The same address twice is one test.
  InetDiagQuery d;
  d.local_addrs = {*parse_host("::1"), *parse_host("::1"), *parse_host("127.0.0.1"), *parse_host("127.0.0.1")};
  EXPECT_EQ(filter_bytecode(d).bytecode.size(), 16u + 4 + 28);
}

// Port ranges (sport > :1024) need one bound when the other is the
// port range's own; a list is cut to the range; subnets are host tests
// with their prefix length, each ANDed on its own.
TEST(Bytecode, RangesAndSubnets) {
  InetDiagQuery q;
  q.local_range = {1025, 65535};
  auto op = ops_of(filter_bytecode(q).bytecode);
  ASSERT_EQ(op.size(), 2u);
  EXPECT_EQ(op[0].code, INET_DIAG_BC_S_GE);
  EXPECT_EQ(op[0].no, 12);  // reject
  EXPECT_EQ(op[1].no, 1025);
  q.local_range = {0, 1023};
  op = ops_of(filter_bytecode(q).bytecode);
  ASSERT_EQ(op.size(), 2u);
  EXPECT_EQ(op[0].code, INET_DIAG_BC_S_LE);
  EXPECT_EQ(op[1].no, 1023);
  q.local_range = {};
  q.remote_range = {1000, 2000};
  op = ops_of(filter_bytecode(q).bytecode);
  ASSERT_EQ(op.size(), 4u);
  EXPECT_EQ(op[0].code, INET_DIAG_BC_D_GE);
  EXPECT_EQ(op[2].code, INET_DIAG_BC_D_LE);
  EXPECT_EQ(op[3].no, 2000);
  q.remote_range = {7, 7};
  EXPECT_EQ(filter_bytecode(q).bytecode, ports_bc({}, {7}));
  q.remote_range = {};
  EXPECT_TRUE(filter_bytecode(q).bytecode.empty());  // every port: no test
  // A list is cut to its range.
  q.local_ports = {22, 80, 443, 8080};
  q.local_range = {80, 1000};
  EXPECT_EQ(filter_bytecode(q).bytecode, ports_bc({80, 443}, {}));
  // A list the range leaves empty is no test (the caller knows no socket
  // matches), never the range alone (found by fuzz_inet_diag_filter).
  q.local_range = {1000, 2000};
  EXPECT_TRUE(filter_bytecode(q).bytecode.empty());
  EXPECT_EQ(filter_bytecode(q).held, 0);

  InetDiagQuery s;
  s.remote_subnets = {*parse_prefix("10.0.0.0/8"), *parse_prefix("fd00::/8")};
  auto bc = filter_bytecode(s).bytecode;
  ASSERT_EQ(bc.size(), 16u + 28);  // two groups: no JMP between them
  inet_diag_bc_op o;
  inet_diag_hostcond c;
  std::memcpy(&o, bc.data(), 4);
  std::memcpy(&c, bc.data() + 4, sizeof c);
  EXPECT_EQ(o.code, INET_DIAG_BC_D_COND);
  EXPECT_EQ(o.no, 44 + 4);
  EXPECT_EQ(c.family, AF_INET);
  EXPECT_EQ(c.prefix_len, 8);
  EXPECT_EQ(c.port, -1);
  std::memcpy(&o, bc.data() + 16, 4);
  std::memcpy(&c, bc.data() + 20, sizeof c);
  EXPECT_EQ(o.no, 28 + 4);
  EXPECT_EQ(c.family, AF_INET6);
  EXPECT_EQ(c.prefix_len, 8);
  EXPECT_EQ(filter_bytecode(s).held, kRemoteAddrs);
}

TEST(Cidr, PrefixesParseAndMatchAsTheKernelDoes) {
  auto p = parse_prefix("10.1.2.99/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->len, 24);
  EXPECT_TRUE(prefix_contains(*p, *parse_host("10.1.2.200")));
  EXPECT_FALSE(prefix_contains(*p, *parse_host("10.1.3.1")));
  EXPECT_TRUE(prefix_contains(*p, *parse_host("::ffff:10.1.2.1")));
  EXPECT_FALSE(prefix_contains(*p, *parse_host("::10.1.2.1")));
  EXPECT_FALSE(prefix_contains(*parse_prefix("::ffff:0:0/96"), *parse_host("10.1.2.1")));
  EXPECT_TRUE(prefix_contains(*parse_prefix("::/0"), *parse_host("fe80::1")));
  EXPECT_EQ(parse_prefix("::1")->len, 128);
  EXPECT_EQ(parse_prefix("1.2.3.4")->len, 32);
  EXPECT_EQ(parse_prefix("0.0.0.0/0")->len, 0);
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/+8", "10.0.0.0/8 ", "10.0.0.0/1000",
                          "1.2.3/8"})
    EXPECT_FALSE(parse_prefix(bad)) << bad;
  EXPECT_FALSE(parse_prefix(std::string_view("1.2.3.4\0", 8)));
  EXPECT_FALSE(parse_host(std::string(100, '1')));
}

// The largest program netsql could ever build is one the kernel's audit
// accepts: every offset within its u16 field, nla_len included.
TEST(Bytecode, LargestProgramPassesTheKernelAudit) {
  InetDiagQuery q;
  q.local_ports = ports(1, 5461, 2);  // 12 * 5461 - 4 = kMaxBytecode
  auto f = filter_bytecode(q, kMaxBytecode);
  ASSERT_EQ(f.bytecode.size(), kMaxBytecode);
  EXPECT_EQ(ops_of(f.bytecode)[2].no, kMaxBytecode - 8);  // the first JMP spans the whole program
  EXPECT_EQ(kernel_verdict(f.bytecode), "");
  q.local_ports = ports(1, 5462, 2);
  EXPECT_EQ(filter_bytecode(q, kMaxBytecode).left_out, kLocalPorts);
  EXPECT_EQ(filter_bytecode(q, 10 * kMaxBytecode).left_out, kLocalPorts);  // the budget cannot exceed the field
  // Ranges, addresses and their mix are audited too.
  InetDiagQuery m;
  m.local_ports = {1, 2, 3, 7};
  m.remote_ports = {9, 10};
  m.local_addrs = {*parse_host("127.0.0.1"), *parse_host("::1")};
  m.remote_addrs = {*parse_host("::ffff:10.0.0.1")};
  EXPECT_EQ(kernel_verdict(filter_bytecode(m).bytecode), "");
  m.local_range = {2, 65535};
  m.remote_range = {0, 1023};
  m.local_subnets = {*parse_prefix("10.0.0.0/8"), *parse_prefix("0.0.0.0/0"), *parse_prefix("fd00::/7")};
  m.remote_subnets = {*parse_prefix("::/0"), *parse_prefix("::ffff:10.0.0.0/104"), *parse_prefix("1.2.3.4")};
  EXPECT_EQ(filter_bytecode(m).held, kLocalPorts | kRemotePorts | kLocalAddrs | kRemoteAddrs);
  EXPECT_EQ(kernel_verdict(filter_bytecode(m).bytecode), "");
  InetDiagQuery r;
  r.local_range = {1, 65534};
  r.remote_range = {5, 5};
  r.remote_subnets = {*parse_prefix("10.0.0.0/8")};
  EXPECT_EQ(kernel_verdict(filter_bytecode(r).bytecode), "");
}

TEST(Netlink, AttributeLengthIsCheckedAgainstNlaLen) {
  std::vector<uint8_t> payload(Request::kMaxAttrPayload + 1);
  Request ok(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST);
  ok.add_attr(1, payload.data(), Request::kMaxAttrPayload);
  nlattr a;
  std::memcpy(&a, ok.bytes().data() + NLMSG_HDRLEN, sizeof a);
  EXPECT_EQ(a.nla_len, 0xffff);
  Request big(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST);
  try {
    big.add_attr(1, payload.data(), payload.size());
    FAIL() << "an attribute of 65532 bytes was accepted";
  } catch (const NetlinkError& e) {
    EXPECT_EQ(e.error(), EMSGSIZE);
    EXPECT_STREQ(e.what(), "netlink attribute of 65532 bytes exceeds nla_len's 16 bits");
  }
}

using DumpCounting = netsql::test::NetnsTest;

TEST_F(DumpCounting, CountsRequestsSentAndMessagesReceived) {
  int l = netsql::test::tcp_listener("::1", 0);
  InetDiagQuery q;
  q.protocol = IPPROTO_TCP;
  std::vector<Request> reqs;
  for (uint8_t f : {AF_INET, AF_INET6}) {
    q.family = f;
    reqs.push_back(inet_diag_request(q, {}));
  }
  DumpSequence seq(NetlinkSocket(NETLINK_SOCK_DIAG), std::move(reqs));
  EXPECT_EQ(seq.counters().requests, 0u);
  ASSERT_TRUE(seq.next());  // the inet dump is empty: this is the inet6 listener
  EXPECT_EQ(seq.counters().requests, 2u);
  EXPECT_EQ(seq.counters().messages, 1u);
  EXPECT_FALSE(seq.next());
  EXPECT_EQ(seq.counters().requests, 2u);
  EXPECT_EQ(seq.counters().messages, 1u);
  close(l);
}

TEST(Bytecode, HostConditions) {
  InetDiagQuery q;
  q.local_addrs = {*parse_host("127.0.0.2"), *parse_host("::1")};
  auto bc = filter_bytecode(q).bytecode;
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

// IPv4 is printed without inet_ntop (whose sprintf was a tenth of a route
// dump's cost): the same text for every octet width, 0 and 255 included.
TEST(AddressText, Ipv4MatchesInetNtop) {
  for (uint32_t a : {0x00000000u, 0xffffffffu, 0x0a000001u, 0x01140503u, 0xc0a864feu, 0x7f000001u, 0x08080808u,
                     0x64ff9b00u}) {
    uint32_t net = htonl(a);
    char want[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, &net, want, sizeof want), nullptr);
    EXPECT_EQ(address_text(AF_INET, &net), want);
  }
  in6_addr v6{};
  v6.s6_addr[15] = 1;
  EXPECT_EQ(address_text(AF_INET6, &v6), "::1");
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
  Request req = inet_diag_request(q, {});
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
  Request ok = inet_diag_request(q, {});
  Dump d(s, ok);
  while (d.next()) {
  }
}

uint64_t inode(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

// The scan spreads over helper threads; when the system starts only some
// of them, or none, the threads it has cover every process, and nothing
// ends the process (std::terminate would kill the child with SIGABRT).
TEST(OwnerScan, ThreadLimitLeavesFewerThreads) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as a user of its own";
  std::vector<pid_t> sleepers;  // enough processes that the scan wants helpers (from 64 on)
  for (int i = 0; i < 64; ++i) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    sleepers.push_back(p);
  }
  for (unsigned allowed = 0; allowed < 4; ++allowed) {
    pid_t child = fork();
    if (child == 0) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) _exit(2);
      // A uid nothing else runs as: this child is its only task, so
      // RLIMIT_NPROC leaves room for exactly `allowed` threads.
      uid_t uid = 40000 + static_cast<uid_t>(getpid()) % 20000;
      if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) _exit(3);
      rlimit lim{1 + allowed, 1 + allowed};
      if (setrlimit(RLIMIT_NPROC, &lim) != 0) _exit(4);
      try {
        auto owners = SocketOwners::scan(std::nullopt, 4);
        // Ours are the only fds this uid may read: the full scan finds
        // exactly what a scan of this process alone does, the pair included.
        auto ours = SocketOwners::scan(getpid());
        std::vector<std::tuple<uint64_t, int, int>> got, want;
        for (const SocketOwner& o : owners.all()) got.emplace_back(o.inode, o.pid, o.fd);
        for (const SocketOwner& o : ours.all()) want.emplace_back(o.inode, o.pid, o.fd);
        bool pair = std::count(want.begin(), want.end(), std::make_tuple(inode(sv[0]), getpid(), sv[0])) == 1 &&
                    owners.lowest_pid(inode(sv[1])) == getpid();
        _exit(got == want && pair ? 0 : 5);
      } catch (...) {
        _exit(6);
      }
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status)) << allowed << " threads allowed: killed by signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0) << allowed << " threads allowed";
  }
  for (pid_t p : sleepers) kill(p, SIGKILL);
  for (pid_t p : sleepers) waitpid(p, nullptr, 0);
}

TEST(OwnerScan, SocketOnStandardInput) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int saved = dup(0);
  ASSERT_EQ(dup2(sv[0], 0), 0);  // as inetd hands a service its connection
  auto owners = SocketOwners::scan(getpid());
  dup2(saved, 0);
  close(saved);
  std::vector<int> fds;
  for (const SocketOwner& o : owners.all())
    if (o.inode == inode(sv[0])) fds.push_back(o.fd);
  EXPECT_EQ(fds, (std::vector<int>{0, sv[0]}));
  close(sv[0]);
  close(sv[1]);
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

// The table of closed sockets' times against std::unordered_map: random
// cookies (clusters form at this load, so removals move entries back),
// records written again, removals, and the oldest dropped past kKeep.
TEST(ClosedTimesTable, AgreesWithAMapAndDropsTheOldest) {
  using netsql::kernel::ClosedTimes;
  auto table = std::make_unique<ClosedTimes>();
  // What it should hold: a record goes kKeep puts after its socket's last put.
  std::unordered_map<uint64_t, std::pair<uint64_t, uint64_t>> oracle;  // cookie: opened, put number
  uint64_t puts = 0;
  std::vector<uint64_t> by_put;
  std::mt19937_64 random(7);
  std::vector<uint64_t> cookies;
  for (size_t i = 0; i < ClosedTimes::kKeep; ++i) cookies.push_back(random() | 1);
  for (size_t step = 0; step < 4 * ClosedTimes::kKeep; ++step) {
    const uint64_t c = cookies[random() % cookies.size()];
    if (random() % 3 == 0) {
      auto got = table->get(c, true);
      auto want = oracle.find(c);
      ASSERT_EQ(got.has_value(), want != oracle.end()) << "step " << step;
      if (got) {
        EXPECT_EQ(got->opened_ns, want->second.first);
        EXPECT_EQ(got->closed_ns, want->second.first + 1);
        oracle.erase(want);
      }
    } else {
      if (puts >= ClosedTimes::kKeep) {  // the record put kKeep puts ago goes, unless put again since
        auto old = oracle.find(by_put[puts - ClosedTimes::kKeep]);
        if (old != oracle.end() && old->second.second == puts - ClosedTimes::kKeep) oracle.erase(old);
      }
      table->put({c, step + 1, step + 2});
      oracle[c] = {step + 1, puts++};
      by_put.push_back(c);
    }
  }
  for (uint64_t c : cookies) {
    auto want = oracle.find(c);
    auto got = table->get(c, false);
    ASSERT_EQ(got.has_value(), want != oracle.end()) << c;
    if (got) {
      EXPECT_EQ(got->opened_ns, want->second.first);
    }
  }
  EXPECT_FALSE(table->get(0, false)) << "0 is no socket's cookie";
  // Past kKeep records the oldest go: the first 10 of kKeep + 10.
  table = std::make_unique<ClosedTimes>();
  for (uint64_t c = 1; c <= ClosedTimes::kKeep + 10; ++c) table->put({c, c, c});
  for (uint64_t c = 1; c <= 10; ++c) EXPECT_FALSE(table->get(c, false)) << c;
  for (uint64_t c = 11; c <= ClosedTimes::kKeep + 10; ++c) ASSERT_TRUE(table->get(c, false)) << c;
  // A record written again is the newest: its old place expiring (with
  // those of 11 to 19, as 10 more arrive) does not drop it.
  table->put({20, 99, 99});
  for (uint64_t c = 1; c <= 9; ++c) table->put({1'000'000 + c, 1, 1});
  for (uint64_t c = 11; c <= 19; ++c) EXPECT_FALSE(table->get(c, false)) << c;
  auto twenty = table->get(20, false);
  ASSERT_TRUE(twenty);
  EXPECT_EQ(twenty->opened_ns, 99u);
}
