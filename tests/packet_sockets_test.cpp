// packet_sockets and netlink_sockets: the sock_diag parsers over recorded
// and damaged kernel replies, and the tables against ss in private
// namespaces (packet sockets on a veth, netlink sockets with groups).
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "kernel/netlink_diag.h"
#include "kernel/packet_diag.h"
#include "support.h"

namespace netsql::test {
namespace {

std::map<std::string, std::vector<uint8_t>> recorded() {
  std::ifstream in(NETSQL_SOURCE_DIR "/tests/fixtures/sock_diag_packet.hex");
  std::map<std::string, std::vector<uint8_t>> out;
  std::string name, hex;
  while (in >> name >> hex) {
    auto& b = out[name];
    for (size_t i = 0; i + 1 < hex.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The first n bytes of `bytes` as a message of exactly n bytes (ASan sees
// any read past it), nlmsg_len set to n.
std::unique_ptr<uint8_t[]> cut(const std::vector<uint8_t>& bytes, size_t n) {
  std::unique_ptr<uint8_t[]> p(new uint8_t[n]);
  std::memcpy(p.get(), bytes.data(), n);
  reinterpret_cast<nlmsghdr*>(p.get())->nlmsg_len = static_cast<uint32_t>(n);
  return p;
}
const nlmsghdr* hdr(const std::vector<uint8_t>& b) { return reinterpret_cast<const nlmsghdr*>(b.data()); }

// Appends attribute `type` with `payload` to a recorded message.
std::vector<uint8_t> with_attr(std::vector<uint8_t> m, uint16_t type, const std::vector<uint8_t>& payload) {
  uint16_t len = static_cast<uint16_t>(4 + payload.size());
  m.push_back(static_cast<uint8_t>(len & 0xff));
  m.push_back(static_cast<uint8_t>(len >> 8));
  m.push_back(static_cast<uint8_t>(type & 0xff));
  m.push_back(static_cast<uint8_t>(type >> 8));
  m.insert(m.end(), payload.begin(), payload.end());
  while (m.size() % 4) m.push_back(0);
  uint32_t total = static_cast<uint32_t>(m.size());
  std::memcpy(m.data(), &total, 4);
  return m;
}

TEST(PacketDiagParse, RecordedPromiscuousSocketWithFilterAndFanout) {
  auto m = recorded();
  auto s = kernel::parse_packet_sock(hdr(m.at("packet_promisc")));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->malformed);
  EXPECT_EQ(s->type, SOCK_RAW);
  EXPECT_EQ(s->protocol, ETH_P_ALL);
  EXPECT_EQ(kernel::ethertype_name(s->protocol), "all");
  EXPECT_EQ(s->ifindex, 1);  // lo
  ASSERT_EQ(s->memberships.size(), 1u);
  EXPECT_EQ(s->memberships[0].type, PACKET_MR_PROMISC);
  EXPECT_EQ(s->memberships[0].ifindex, 1);
  EXPECT_EQ(s->memberships[0].address, "");
  ASSERT_TRUE(s->fanout);
  EXPECT_EQ(s->fanout_id(), 42);
  EXPECT_EQ(kernel::fanout_type_name(s->fanout_type()), "lb");
  EXPECT_FALSE(s->rx_ring);
  EXPECT_FALSE(s->tx_ring);
  EXPECT_EQ(s->uid, 0u);
  EXPECT_EQ(s->filter, kernel::PacketFilter::Classic);
  EXPECT_EQ(s->filter_instructions, 4u);
  ASSERT_TRUE(s->queues);
}

TEST(PacketDiagParse, RecordedArpSocketWithMulticastAndRing) {
  auto m = recorded();
  auto s = kernel::parse_packet_sock(hdr(m.at("packet_arp_ring")));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, SOCK_DGRAM);
  EXPECT_EQ(s->protocol, ETH_P_ARP);
  EXPECT_EQ(kernel::ethertype_name(s->protocol), "arp");
  ASSERT_EQ(s->memberships.size(), 1u);
  EXPECT_EQ(kernel::membership_type_name(s->memberships[0].type), "multicast");
  EXPECT_EQ(s->memberships[0].address, "01:00:5e:00:00:fb");
  EXPECT_TRUE(s->rx_ring);
  EXPECT_FALSE(s->tx_ring);
  EXPECT_FALSE(s->fanout);
  EXPECT_EQ(s->filter, kernel::PacketFilter::None);
}

TEST(PacketDiagParse, UnprivilegedReplyWithholdsTheFilter) {
  auto m = recorded();
  auto s = kernel::parse_packet_sock(hdr(m.at("packet_promisc_unprivileged")));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->filter, kernel::PacketFilter::Withheld);
  EXPECT_EQ(s->memberships.size(), 1u);
}

TEST(PacketDiagParse, EveryTruncationIsSafe) {
  auto m = recorded();
  for (const char* name : {"packet_promisc", "packet_arp_ring", "packet_promisc_unprivileged"}) {
    const auto& bytes = m.at(name);
    for (size_t n = sizeof(nlmsghdr); n <= bytes.size(); ++n) {
      auto copy = cut(bytes, n);
      auto s = kernel::parse_packet_sock(reinterpret_cast<const nlmsghdr*>(copy.get()));
      ASSERT_EQ(s.has_value(), n >= NLMSG_LENGTH(sizeof(packet_diag_msg))) << name << " " << n;
      if (!s) continue;
      EXPECT_LE(s->memberships.size(), 1u) << name << " " << n;
      EXPECT_LE(s->filter_instructions, 4u) << name << " " << n;
      if (n < bytes.size()) {
        EXPECT_TRUE(s->malformed || n % 4 == 0) << name << " " << n;
      }
    }
  }
}

TEST(PacketDiagParse, DamagedAttributesAreFlaggedAndKeepWholeEntries) {
  auto m = recorded();
  const auto& arp = m.at("packet_arp_ring");
  // A membership list with one whole record and a stray part of another:
  // the whole one is kept (the later duplicate wins, as in the kernel's
  // nla_parse), the rest flagged.
  std::vector<uint8_t> list(sizeof(packet_diag_mclist) + 20, 0);
  list[8] = PACKET_MR_ALLMULTI;
  auto s = kernel::parse_packet_sock(hdr(with_attr(arp, PACKET_DIAG_MCLIST, list)));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->malformed);
  ASSERT_EQ(s->memberships.size(), 1u);
  EXPECT_EQ(kernel::membership_type_name(s->memberships[0].type), "allmulti");
  // A filter of 7 bytes: no whole instruction.
  s = kernel::parse_packet_sock(hdr(with_attr(arp, PACKET_DIAG_FILTER, std::vector<uint8_t>(7, 0x06))));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->malformed);
  EXPECT_EQ(s->filter, kernel::PacketFilter::Classic);
  EXPECT_EQ(s->filter_instructions, 0u);
  // A meminfo too short for the queues: none rather than garbage.
  s = kernel::parse_packet_sock(hdr(with_attr(arp, PACKET_DIAG_MEMINFO, std::vector<uint8_t>(8, 1))));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->queues);
  // A message of another type is not a packet socket.
  auto other = arp;
  reinterpret_cast<nlmsghdr*>(other.data())->nlmsg_type = NLMSG_DONE;
  EXPECT_FALSE(kernel::parse_packet_sock(hdr(other)));
}

TEST(NetlinkDiagParse, RecordedRouteSocketWithGroups) {
  auto m = recorded();
  auto s = kernel::parse_netlink_sock(hdr(m.at("netlink_route_groups")));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->malformed);
  EXPECT_EQ(s->protocol, NETLINK_ROUTE);
  EXPECT_EQ(kernel::netlink_protocol_name(s->protocol), "route");
  EXPECT_NE(s->portid, 0u);
  EXPECT_EQ(s->groups, (std::vector<uint32_t>{1, 5, 33}));
  EXPECT_EQ(s->flags, 0u);
  EXPECT_TRUE(s->queues);
  EXPECT_EQ(s->dst_portid, 0u);
}

TEST(NetlinkDiagParse, EveryTruncationAndDamagedGroupsAreSafe) {
  auto m = recorded();
  const auto& bytes = m.at("netlink_route_groups");
  for (size_t n = sizeof(nlmsghdr); n <= bytes.size(); ++n) {
    auto copy = cut(bytes, n);
    auto s = kernel::parse_netlink_sock(reinterpret_cast<const nlmsghdr*>(copy.get()));
    ASSERT_EQ(s.has_value(), n >= NLMSG_LENGTH(sizeof(netlink_diag_msg))) << n;
    if (s) {
      EXPECT_LE(s->groups.size(), 3u) << n;
    }
  }
  // Groups of 5 bytes: no whole word, flagged; a word with bit 63 set.
  auto bent = with_attr(bytes, NETLINK_DIAG_GROUPS, {0xff, 0xff, 0xff, 0xff, 0xff});
  auto s = kernel::parse_netlink_sock(hdr(bent));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->malformed);
  EXPECT_TRUE(s->groups.empty());
  std::vector<uint8_t> top(sizeof(unsigned long), 0);
  unsigned long bit = 1ul << (8 * sizeof(unsigned long) - 1);
  std::memcpy(top.data(), &bit, sizeof bit);
  s = kernel::parse_netlink_sock(hdr(with_attr(bytes, NETLINK_DIAG_GROUPS, top)));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->groups, (std::vector<uint32_t>{8 * sizeof(unsigned long)}));
}

TEST(NetlinkDiagNames, ProtocolsAndFlags) {
  EXPECT_EQ(kernel::netlink_protocol_name(NETLINK_SOCK_DIAG), "sock_diag");
  EXPECT_EQ(kernel::netlink_protocol_name(NETLINK_GENERIC), "generic");
  EXPECT_EQ(kernel::netlink_protocol_name(17), "");
  EXPECT_EQ(kernel::netlink_protocol_name(200), "");
  EXPECT_EQ(kernel::netlink_protocol_number("kobject_uevent"), NETLINK_KOBJECT_UEVENT);
  EXPECT_FALSE(kernel::netlink_protocol_number(""));
  EXPECT_EQ(kernel::netlink_flags_text(NDIAG_FLAG_CB_RUNNING | NDIAG_FLAG_CAP_ACK | 0x400), "cb_running,cap_ack,0x400");
}

// ---- the tables, live ----

class PacketSockets : public NetnsTest {};

int packet_socket(int type, uint16_t protocol, const char* ifname) {
  int fd = socket(AF_PACKET, type | SOCK_CLOEXEC, htons(protocol));
  EXPECT_GE(fd, 0) << strerror(errno);
  sockaddr_ll a{};
  a.sll_family = AF_PACKET;
  a.sll_protocol = htons(protocol);
  a.sll_ifindex = static_cast<int>(if_nametoindex(ifname));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
  return fd;
}

void add_membership(int fd, const char* ifname, unsigned short type, std::vector<uint8_t> addr = {}) {
  packet_mreq mr{};
  mr.mr_ifindex = static_cast<int>(if_nametoindex(ifname));
  mr.mr_type = type;
  mr.mr_alen = static_cast<unsigned short>(addr.size());
  std::copy(addr.begin(), addr.end(), mr.mr_address);
  ASSERT_EQ(setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr), 0) << strerror(errno);
}

// ss -0 -a -n -p -e -b, one entry per socket: "ino" -> the line and its
// detail lines joined.
std::map<std::string, std::string> ss_packet() {
  std::map<std::string, std::string> out;
  std::istringstream in(run("ss -H -0 -a -n -p -e -b"));
  std::string line, ino;
  std::regex ino_re(" ino:([0-9]+) ");
  while (std::getline(in, line)) {
    std::smatch mm;
    if (std::regex_search(line, mm, ino_re)) out[ino = mm[1]] = line;
    else if (!ino.empty()) out[ino] += " |" + line;
  }
  return out;
}

TEST_F(PacketSockets, RowsEqualSsWithPromiscFilterFanoutAndRing) {
  sh("ip link add nsq-v0 type veth peer name nsq-v1 && ip link set nsq-v0 up && ip link set nsq-v1 up");
  int sniffer = packet_socket(SOCK_RAW, ETH_P_ALL, "nsq-v0");
  add_membership(sniffer, "nsq-v0", PACKET_MR_PROMISC);
  sock_filter code[] = {{0x28, 0, 0, 12}, {0x15, 0, 1, ETH_P_IP}, {0x06, 0, 0, 0xffff}, {0x06, 0, 0, 0}};
  sock_fprog prog{4, code};
  ASSERT_EQ(setsockopt(sniffer, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), 0) << strerror(errno);
  int fanout = 77 | (PACKET_FANOUT_HASH << 16);
  ASSERT_EQ(setsockopt(sniffer, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof fanout), 0) << strerror(errno);

  int arp = packet_socket(SOCK_DGRAM, ETH_P_ARP, "nsq-v1");
  add_membership(arp, "nsq-v1", PACKET_MR_MULTICAST, {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb});
  tpacket_req ring{4096, 1, 2048, 2};
  ASSERT_EQ(setsockopt(arp, SOL_PACKET, PACKET_RX_RING, &ring, sizeof ring), 0) << strerror(errno);
  int any = packet_socket(SOCK_RAW, ETH_P_IPV6, "lo");

  Db db;
  std::string ino_s = std::to_string(inode_of(sniffer)), ino_a = std::to_string(inode_of(arp)),
              ino_6 = std::to_string(inode_of(any)), pid = std::to_string(getpid());
  EXPECT_EQ(db.rows("SELECT type, protocol, protocol_name, interface, promiscuous, memberships, fanout_id, fanout_type, "
                    "rx_ring, tx_ring, bpf_filter, bpf_instructions, uid, pid FROM packet_sockets ORDER BY protocol"),
            (std::vector<Row>{
                {"raw", "3", "all", "nsq-v0", "1", "promisc@nsq-v0", "77", "hash", "0", "0", "1", "4", "0", pid},
                {"dgram", "2054", "arp", "nsq-v1", "0", "multicast@nsq-v1=01:00:5e:00:00:fb", {}, {}, "1", "0", "0", {},
                 "0", pid},
                {"raw", "34525", "ipv6", "lo", "0", {}, {}, {}, "0", "0", "0", {}, "0", pid}}));
  EXPECT_EQ(db.rows("SELECT inode FROM packet_sockets WHERE promiscuous ORDER BY inode"), (std::vector<Row>{{ino_s}}));

  // ss: the same sockets, and what it says of each agrees with our row.
  auto ss = ss_packet();
  ASSERT_EQ(ss.size(), 3u);
  for (const auto& r : db.rows("SELECT inode, type, protocol, coalesce(interface, '*'), pid, fanout_id, fanout_type, "
                               "bpf_instructions, rx_ring FROM packet_sockets")) {
    ASSERT_TRUE(ss.count(*r[0])) << *r[0];
    const std::string& line = ss[*r[0]];
    EXPECT_EQ(line.rfind(*r[1] == "raw" ? "p_raw" : "p_dgr", 0), 0u) << line;
    std::string proto = *r[2] == "3" ? "*" : "[" + *r[2] + "]";
    EXPECT_NE(line.find(" " + proto + ":" + *r[3] + " "), std::string::npos) << line;
    EXPECT_NE(line.find("pid=" + *r[4] + ","), std::string::npos) << line;
    EXPECT_EQ(line.find("fanout(") != std::string::npos, r[5].has_value()) << line;
    if (r[5]) {
      EXPECT_NE(line.find("fanout(id:" + *r[5] + ",type:" + *r[6] + ")"), std::string::npos) << line;
    }
    EXPECT_EQ(line.find("bpf filter (") != std::string::npos, r[7].has_value()) << line;
    if (r[7]) {
      EXPECT_NE(line.find("bpf filter (" + *r[7] + ")"), std::string::npos) << line;
    }
    EXPECT_EQ(line.find("ring_rx(") != std::string::npos, *r[8] == "1") << line;
  }
  close(sniffer);
  close(arp);
  close(any);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM packet_sockets"), 0);
}

TEST_F(PacketSockets, UnprivilegedCallerSeesTheSocketButNotItsFilter) {
  int sniffer = packet_socket(SOCK_RAW, ETH_P_ALL, "lo");
  add_membership(sniffer, "lo", PACKET_MR_PROMISC);
  sock_filter code[] = {{0x06, 0, 0, 0xffff}};
  sock_fprog prog{1, code};
  ASSERT_EQ(setsockopt(sniffer, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), 0) << strerror(errno);
  std::string got = run_as_nobody({"SELECT count(*) || '/' || promiscuous || '/' || coalesce(bpf_filter, 'NULL') || '/' "
                                   "|| coalesce(bpf_instructions, 'NULL') || '/' || coalesce(pid, 'NULL') FROM packet_sockets"},
                                  {sniffer});
  EXPECT_EQ(got, "1/1/NULL/NULL/NULL;");
  Db db;
  EXPECT_EQ(db.rows("SELECT bpf_filter, bpf_instructions FROM packet_sockets"), (std::vector<Row>{{"1", "1"}}));
  close(sniffer);
}

class NetlinkSockets : public NetnsTest {};

int netlink_socket(int protocol, uint32_t groups) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  EXPECT_GE(fd, 0) << strerror(errno);
  sockaddr_nl a{};
  a.nl_family = AF_NETLINK;
  a.nl_groups = groups;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << strerror(errno);
  return fd;
}

TEST_F(NetlinkSockets, RowsEqualSsEachSocketOnce) {
  int route = netlink_socket(NETLINK_ROUTE, 1 | 1 << 4);  // RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR
  int group = 33;
  ASSERT_EQ(setsockopt(route, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group), 0) << strerror(errno);
  int genl = netlink_socket(NETLINK_GENERIC, 0);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ASSERT_EQ(connect(genl, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel), 0) << strerror(errno);
  int one = 1;
  ASSERT_EQ(setsockopt(genl, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one), 0);
  int uevent = netlink_socket(NETLINK_KOBJECT_UEVENT, 1);

  Db db;
  auto port = [](int fd) {
    sockaddr_nl a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return std::to_string(a.nl_pid);
  };
  std::string pid = std::to_string(getpid());
  EXPECT_EQ(db.rows("SELECT protocol, protocol_number, portid, state, groups, flags, pid FROM netlink_sockets WHERE inode = " +
                    std::to_string(inode_of(route))),
            (std::vector<Row>{{"route", "0", port(route), "UNCONN", "1,5,33", "", pid}}));
  EXPECT_EQ(db.rows("SELECT protocol, state, groups, flags FROM netlink_sockets WHERE inode = " +
                    std::to_string(inode_of(genl))),
            (std::vector<Row>{{"generic", "ESTABLISHED", {}, "no_enobufs"}}));
  EXPECT_EQ(db.rows("SELECT groups FROM netlink_sockets WHERE inode = " + std::to_string(inode_of(uevent))),
            (std::vector<Row>{{"1"}}));
  // protocol = and IN: only those protocols (one dump each); bad names are errors.
  EXPECT_EQ(db.rows("SELECT DISTINCT protocol FROM netlink_sockets WHERE protocol IN ('generic', 'kobject_uevent', '16') "
                    "ORDER BY 1"),
            (std::vector<Row>{{"generic"}, {"kobject_uevent"}}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM netlink_sockets WHERE protocol = 'route' AND portid = 0"), 1);
  EXPECT_EQ(db.error("SELECT * FROM netlink_sockets WHERE protocol = 'rtnl'"),
            "netlink_sockets: unknown protocol 'rtnl' (expected a name such as route, generic, sock_diag, or a number)");

  // ss -A netlink (which lists multicast listeners twice) shows the same
  // sockets: (protocol, portid, peer, first word of groups). netsql's own
  // and ss's sock_diag sockets differ between the two runs: left out.
  std::set<std::string> ours, theirs;
  for (const auto& r : db.rows("SELECT protocol_number || ':' || portid || ' ' || "
                               "iif(state = 'ESTABLISHED', dst_group || ':' || dst_portid, '*') || ' ' || "
                               "coalesce(groups, '') FROM netlink_sockets WHERE NOT (protocol = 'sock_diag' AND portid)"))
    ours.insert(*r[0]);
  std::istringstream in(run("ss -H -A netlink -a -n -e"));
  std::string state, rq, sq, local, peer, sk, cb, groups;
  size_t lines = 0;
  while (in >> state >> rq >> sq >> local >> peer >> sk >> cb >> groups) {
    ++lines;
    if (local.rfind("4:", 0) == 0 && local != "4:0") continue;
    unsigned long mask = std::stoul(groups.substr(groups.find('=') + 1), nullptr, 16);
    std::string list;
    for (int b = 0; b < 32; ++b)
      if (mask >> b & 1) list += (list.empty() ? "" : ",") + std::to_string(b + 1);
    theirs.insert(local + " " + peer + " " + list);
  }
  // ss shows the first 32 groups only.
  std::set<std::string> ours32;
  for (auto r : ours) ours32.insert(std::regex_replace(r, std::regex(",33$"), ""));
  EXPECT_EQ(ours32, theirs);
  EXPECT_GT(lines, ours.size());  // the listeners twice in ss
  EXPECT_EQ(db.scalar("SELECT count(*) FROM netlink_sockets WHERE NOT (protocol = 'sock_diag' AND portid)"),
            static_cast<long long>(ours.size()));
  close(route);
  close(genl);
  close(uevent);
}

}  // namespace
}  // namespace netsql::test
