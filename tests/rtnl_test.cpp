// routes, interfaces, interface_addresses, neighbors: recorded kernel
// replies (whole, truncated, damaged), then a known world built with ip in
// a private namespace, checked row by row and against ip's JSON output.
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "support.h"

namespace netsql::test {
namespace {

using json = nlohmann::json;

std::map<std::string, std::vector<uint8_t>> recorded() {
  std::ifstream in(NETSQL_SOURCE_DIR "/tests/fixtures/rtnl_messages.hex");
  std::map<std::string, std::vector<uint8_t>> out;
  std::string name, hex;
  while (in >> name >> hex) {
    auto& b = out[name];
    for (size_t i = 0; i + 1 < hex.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

const nlmsghdr* hdr(const std::vector<uint8_t>& b) { return reinterpret_cast<const nlmsghdr*>(b.data()); }

TEST(RtnlParse, RecordedMessages) {
  auto m = recorded();
  kernel::RouteMessage mp;
  ASSERT_TRUE(mp.parse(hdr(m["multipath"])));
  EXPECT_EQ(mp.destination(), "10.70.0.0");
  EXPECT_EQ(mp.header().rtm_dst_len, 16);
  ASSERT_EQ(mp.nexthop_count(), 2u);
  EXPECT_EQ(mp.nexthop(0).gateway_text(), "10.1.0.2");
  EXPECT_EQ(mp.nexthop(0).weight, 1);
  EXPECT_EQ(mp.nexthop(1).gateway_text(), "10.1.0.3");
  EXPECT_EQ(mp.nexthop(1).weight, 3);
  kernel::RouteMessage via;
  ASSERT_TRUE(via.parse(hdr(m["via"])));
  ASSERT_EQ(via.nexthop_count(), 1u);
  EXPECT_EQ(via.nexthop(0).gateway_text(), "fd01::2");
  EXPECT_FALSE(via.nexthop(0).weight);
  kernel::LinkMessage link;
  ASSERT_TRUE(link.parse(hdr(m["link"])));
  EXPECT_EQ(link.name(), "veth0");
  EXPECT_EQ(link.kind(), "veth");
  EXPECT_TRUE(link.stats());
  kernel::AddressMessage addr;
  ASSERT_TRUE(addr.parse(hdr(m["address"])));
  EXPECT_EQ(addr.address(), "10.1.0.1");
  EXPECT_EQ(addr.header().ifa_prefixlen, 24);
  EXPECT_EQ(addr.broadcast(), "");
  EXPECT_FALSE(addr.valid_s());  // forever
  kernel::NeighborMessage n;
  ASSERT_TRUE(n.parse(hdr(m["neighbor"])));
  EXPECT_TRUE(n.has_address());
  EXPECT_EQ(n.address(), "10.1.0.9");
  EXPECT_EQ(n.mac(), "02:00:00:00:00:09");
  EXPECT_EQ(kernel::neighbor_state_name(n.header().ndm_state), "PERMANENT");
  // A view refuses a message of another type.
  EXPECT_FALSE(mp.parse(hdr(m["link"])));
  EXPECT_FALSE(link.parse(hdr(m["address"])));
}

// Every prefix of every recorded message, in a heap block of exactly that
// size (ASan sees any overread), parses or is rejected, and every accessor
// of what parses stays inside it; none crashes.
TEST(RtnlParse, TruncatedMessagesAreSafe) {
  for (auto& [name, bytes] : recorded()) {
    for (size_t n = sizeof(nlmsghdr); n <= bytes.size(); ++n) {
      std::unique_ptr<uint8_t[]> copy(new uint8_t[n]);
      std::memcpy(copy.get(), bytes.data(), n);
      auto* h = reinterpret_cast<nlmsghdr*>(copy.get());
      h->nlmsg_len = static_cast<uint32_t>(n);
      kernel::RouteMessage r;
      if (r.parse(h)) {
        r.destination(), r.prefsrc(), r.metric(RTAX_MTU), r.expires_ms(), r.table();
        for (size_t i = 0; i < r.nexthop_count(); ++i) r.nexthop(i).gateway_text();
      }
      kernel::LinkMessage l;
      if (l.parse(h)) l.name(), l.kind(), l.mac(), l.broadcast_mac(), l.stats(), l.qdisc();
      kernel::AddressMessage a;
      if (a.parse(h)) a.address(), a.peer(), a.broadcast(), a.label(), a.valid_s();
      kernel::NeighborMessage nb;
      if (nb.parse(h)) nb.address(), nb.mac();
    }
  }
}

TEST(RtnlParse, DamagedMultipathStopsCleanly) {
  auto bytes = recorded()["multipath"];
  // Find RTA_MULTIPATH and claim its first nexthop is longer than the attribute.
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(rtmsg));
  bool damaged = false;
  while (off + 4 <= bytes.size()) {
    uint16_t len, type;
    std::memcpy(&len, &bytes[off], 2);
    std::memcpy(&type, &bytes[off + 2], 2);
    if (type == RTA_MULTIPATH) {
      uint16_t huge = 0x7fff;
      std::memcpy(&bytes[off + 4], &huge, 2);
      damaged = true;
      break;
    }
    off += (len + 3u) & ~3u;
  }
  ASSERT_TRUE(damaged);
  kernel::RouteMessage r;
  ASSERT_TRUE(r.parse(hdr(bytes)));
  ASSERT_EQ(r.nexthop_count(), 1u);  // the bad list is dropped, not read past
  EXPECT_FALSE(r.nexthop(0).weight);
}

TEST(RtnlNames, RtTablesParser) {
  auto t = kernel::parse_rt_tables("# comment\n255\tlocal\n254  main # trailing\n100 blue\n0x20 hexy\nbad line\n7\n 8 eight\r\n");
  EXPECT_EQ(t, (std::map<uint32_t, std::string>{{255, "local"}, {254, "main"}, {100, "blue"}, {32, "hexy"}, {8, "eight"}}));
  EXPECT_EQ(kernel::netstat_link_flags(IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST), "BMRU");
  EXPECT_EQ(kernel::ifconfig_link_flags(IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST), "UP,BROADCAST,RUNNING,MULTICAST");
}

// Built-in table ids are named without reading a file (main, local,
// default, unspec whatever the files say); the files are read at the first
// other id: rt_tables and rt_tables.d/*.conf of each directory, a later
// directory overriding an earlier one.
TEST(RtnlNames, RouteTablesReadTheFilesOnlyForAnIdNotBuiltIn) {
  TempDir usr, etc;
  kernel::RouteTables t({usr.path, etc.path});
  EXPECT_EQ(t.name(RT_TABLE_MAIN), "main");  // no file yet, and none read: written below
  std::ofstream(usr / "rt_tables") << "100 blue\n101 red\n254 renamed\n";
  ASSERT_EQ(mkdir((etc / "rt_tables.d").c_str(), 0755), 0);
  std::ofstream(etc / "rt_tables") << "100 navy\n";
  std::ofstream(etc / "rt_tables.d/vpn.conf") << "102 vpn\n";
  std::ofstream(etc / "rt_tables.d/skipped.txt") << "103 skipped\n";
  EXPECT_EQ(t.name(100), "navy");
  EXPECT_EQ(t.name(101), "red");
  EXPECT_EQ(t.name(102), "vpn");
  EXPECT_EQ(t.name(103), "103");
  EXPECT_EQ(t.name(RT_TABLE_MAIN), "main");
  EXPECT_EQ(t.name(RT_TABLE_LOCAL), "local");
  EXPECT_EQ(t.name(RT_TABLE_DEFAULT), "default");
  EXPECT_EQ(t.name(RT_TABLE_UNSPEC), "unspec");
}

// The world: this namespace (A) with veth0 reaching into namespace B, a
// quiet veth pair (qa/qb, no IPv6, so counters move only by our packets), a
// bridge, addresses, routes, neighbours.
class Rtnl : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    add_peer("nsqB");
    std::string script = "set -e; P=" + peer_ + R"(
ip link add veth0 type veth peer name veth1 netns $P
ip link add br0 type bridge
ip link add veth2 type veth peer name veth3
ip link set veth2 master br0
ip link add qa type veth peer name qb netns $P
sysctl -qw net.ipv6.conf.qa.disable_ipv6=1
ip netns exec $P sysctl -qw net.ipv6.conf.qb.disable_ipv6=1
ip addr add 10.1.0.1/24 dev veth0
ip addr add 10.1.0.5/24 dev veth0
ip addr add fd01::1/64 dev veth0 nodad
ip addr add 10.2.0.1/24 dev br0
ip addr add 10.3.0.1/24 dev qa
for l in veth0 br0 veth2 veth3 qa; do ip link set $l up; done
ip -n $P addr add 10.1.0.2/24 dev veth1
ip -n $P addr add 10.3.0.2/24 dev qb
ip -n $P link set veth1 up
ip -n $P link set qb up
ip route add 10.50.0.0/16 via 10.1.0.2
ip route add 10.60.0.0/16 via 10.1.0.2 table 100
ip route add 10.70.0.0/16 nexthop via 10.1.0.2 weight 1 nexthop via 10.1.0.3 weight 3
ip route add blackhole 10.80.0.0/16
ip route add 10.90.0.0/16 via inet6 fd01::2 dev veth0
ip -6 route add fd99::/64 via fd01::2 metric 50
ip neigh add 10.1.0.9 lladdr 02:00:00:00:00:09 dev veth0 nud permanent
ip -6 neigh add fd01::9 lladdr 02:00:00:00:00:0a dev veth0 nud permanent
ip neigh add 10.3.0.2 lladdr 02:00:00:00:00:0b dev qa nud permanent
)";
    sh(script);
  }
};

// A live system moves while we look (DAD, MLD joins add neighbours and
// addresses change flags): compare ours with iproute2's view only when
// iproute2 saw the same thing just before and just after our query.
template <class Ours, class Theirs>
void expect_same_as_iproute2(Ours ours, Theirs theirs) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto before = theirs();
    auto mine = ours();
    auto after = theirs();
    if (before == after) {
      EXPECT_EQ(mine, before);
      EXPECT_FALSE(mine.empty());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "iproute2's view never settled";
}

std::set<std::string> as_set(const std::vector<Row>& rows) {
  std::set<std::string> out;
  for (const auto& r : rows) {
    std::string s;
    for (const auto& c : r) s += (c ? *c : "NULL") + "|";
    out.insert(s);
  }
  return out;
}

TEST_F(Rtnl, RoutesAreExact) {
  Db db;
  auto rows = db.rows(
      "SELECT destination, prefix_len, gateway, interface, table_name, protocol, type, flags, nexthop_weight "
      "FROM routes WHERE family = 'inet' AND table_id != 255");
  EXPECT_EQ(as_set(rows), (std::set<std::string>{
                              "10.1.0.0|24|NULL|veth0|main|kernel|unicast|U|NULL|",
                              "10.2.0.0|24|NULL|br0|main|kernel|unicast|U|NULL|",
                              "10.3.0.0|24|NULL|qa|main|kernel|unicast|U|NULL|",
                              "10.50.0.0|16|10.1.0.2|veth0|main|boot|unicast|UG|NULL|",
                              "10.60.0.0|16|10.1.0.2|veth0|100|boot|unicast|UG|NULL|",
                              "10.70.0.0|16|10.1.0.2|veth0|main|boot|unicast|UG|1|",
                              "10.70.0.0|16|10.1.0.3|veth0|main|boot|unicast|UG|3|",
                              "10.80.0.0|16|NULL|NULL|main|boot|blackhole|U!|NULL|",
                              "10.90.0.0|16|fd01::2|veth0|main|boot|unicast|UG|NULL|",
                          }));
  EXPECT_EQ(db.rows("SELECT netmask, metric FROM routes WHERE destination = '10.50.0.0'"), (std::vector<Row>{{"255.255.0.0", "0"}}));
  EXPECT_EQ(db.rows("SELECT gateway, metric FROM routes WHERE destination = 'fd99::'"), (std::vector<Row>{{"fd01::2", "50"}}));
  // table_id reaches the kernel: only table 100's route comes back.
  EXPECT_EQ(db.rows("SELECT destination FROM routes WHERE table_id = 100"), (std::vector<Row>{{"10.60.0.0"}}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM routes WHERE table_id = 4242"), 0);
  EXPECT_EQ(db.error("SELECT * FROM routes WHERE family = 'ipv6'"),
            "routes: invalid family 'ipv6' (expected 'inet' or 'inet6')");
}

// ip's JSON as our rows: dst/len|gateway|dev|table|type|protocol|scope|metric
std::set<std::string> ip_routes() {
  std::set<std::string> out;
  for (const auto& r : json::parse(run("ip -j route show table all"))) {
    std::string dst = r["dst"];
    bool v6 = dst.find(':') != std::string::npos || (dst == "default" && r.contains("pref"));
    if (dst == "default") dst = v6 ? "::/0" : "0.0.0.0/0";
    if (dst.find('/') == std::string::npos) dst += v6 ? "/128" : "/32";
    std::string rest = "|" + std::string(r.value("table", "main")) + "|" + std::string(r.value("type", "unicast")) + "|" +
                       std::string(r.value("protocol", "boot")) + "|" + std::string(r.value("scope", "global")) + "|" +
                       std::to_string(r.value("metric", 0));
    auto gw = [](const json& n) {
      if (n.contains("gateway")) return std::string(n["gateway"]);
      if (n.contains("via")) return std::string(n["via"]["host"]);
      return std::string();
    };
    if (r.contains("nexthops")) {
      for (const auto& n : r["nexthops"]) out.insert(dst + "|" + gw(n) + "|" + std::string(n.value("dev", "")) + rest);
    } else {
      out.insert(dst + "|" + gw(r) + "|" + std::string(r.value("dev", "")) + rest);
    }
  }
  return out;
}

// Each pushed filter returns exactly what SQLite's own filtering of a full
// scan returns (`+column` keeps a constraint from the table).
TEST_F(Rtnl, RoutesPushdownReturnsWhatAFullScanDoes) {
  sh("ip route add default via 10.1.0.2 && ip -6 route add default via fd01::2 && "
     "ip route add 10.91.0.0/16 via 10.1.0.2 proto static");
  Db db;
  const std::string cols = "SELECT family, destination, prefix_len, gateway, table_id, type, protocol FROM routes ";
  struct Case {
    std::string where, unpushed;
    size_t rows;
  };
  for (const Case& c : std::vector<Case>{
           {"destination = '0.0.0.0'", "+destination = '0.0.0.0'", 1},
           {"destination = '::'", "+destination = '::'", 1},
           {"destination IN ('10.50.0.0', 'fd99::', '10.1.0.0')", "+destination IN ('10.50.0.0', 'fd99::', '10.1.0.0')", 3},
           {"destination = '10.70.0.0' AND prefix_len = 16", "+destination = '10.70.0.0' AND +prefix_len = 16", 2},
           {"prefix_len IN (0, 16)", "+prefix_len IN (0, 16)", 9},
           {"destination = 'FD99::'", "+destination = 'FD99::'", 0},
           {"destination = 'nonsense'", "+destination = 'nonsense'", 0},
           {"type = 'blackhole'", "+type = 'blackhole'", 1},
           {"type IN ('unicast', 'local') AND table_id = 255", "+type IN ('unicast', 'local') AND table_id = 255", 0},
           {"protocol = 'static'", "+protocol = 'static'", 1},
           {"protocol IN ('kernel', 'static') AND family = 'inet6'",
            "+protocol IN ('kernel', 'static') AND family = 'inet6'", 0},
           {"protocol = 'unspec'", "+protocol = 'unspec'", 0},
           {"protocol = 4", "+protocol = 4", 0},
       }) {
    SCOPED_TRACE(c.where);
    auto pushed = as_set(db.rows(cols + "WHERE " + c.where));
    EXPECT_EQ(pushed, as_set(db.rows(cols + "WHERE " + c.unpushed)));
    if (c.rows) {
      EXPECT_EQ(pushed.size(), c.rows);
    }
  }
  EXPECT_GT(db.scalar("SELECT count(*) FROM routes WHERE type IN ('unicast', 'local') AND table_id = 255"), 0);
  EXPECT_GT(db.scalar("SELECT count(*) FROM routes WHERE protocol IN ('kernel', 'static') AND family = 'inet6'"), 0);
  EXPECT_EQ(db.error("SELECT * FROM routes WHERE type = 'bogus'"),
            "routes: invalid type 'bogus' (expected a name such as unicast or local, or a number)");
}

TEST_F(Rtnl, RoutesMatchIpJson) {
  Db db;
  expect_same_as_iproute2(
      [&] {
        std::set<std::string> ours;
        for (auto& r : db.rows("SELECT destination || '/' || prefix_len, coalesce(gateway, ''), coalesce(interface, ''), "
                               "table_name, type, protocol, scope, metric FROM routes"))
          ours.insert(*r[0] + "|" + *r[1] + "|" + *r[2] + "|" + *r[3] + "|" + *r[4] + "|" + *r[5] + "|" + *r[6] + "|" + *r[7]);
        return ours;
      },
      ip_routes);
}

// One RTM_GETLINK per index for the first few, then one names-only dump:
// both give ip's names; an index that no link has is its number.
TEST_F(Rtnl, LinkNameCacheNamesEveryInterface) {
  std::string script = "set -e";
  for (int i = 0; i < 12; ++i)
    script += "; ip link add n" + std::to_string(i) + " type veth peer name m" + std::to_string(i);
  sh(script);
  std::map<int, std::string> theirs;
  for (const auto& l : json::parse(run("ip -j link"))) theirs[l["ifindex"].get<int>()] = l["ifname"];
  ASSERT_GT(theirs.size(), size_t{kernel::LinkNameCache::kSingleLookups} + 8);
  kernel::Netns here;
  kernel::LinkNameCache cache(here);
  for (const auto& [index, name] : theirs) EXPECT_EQ(cache.name(index), name) << index;
  EXPECT_EQ(cache.name(0), "");
  EXPECT_EQ(cache.name(999999), "999999");
  for (const auto& [index, name] : theirs)
    if (name == "m7") {
      EXPECT_EQ(cache.index("m7"), index);
    }
  EXPECT_EQ(cache.index("nosuch0"), std::nullopt);
  // A fresh cache answers a later index first (single lookups) the same way.
  kernel::LinkNameCache fresh(here);
  EXPECT_EQ(fresh.name(theirs.rbegin()->first), theirs.rbegin()->second);
  EXPECT_EQ(fresh.index("lo"), 1);
}

TEST_F(Rtnl, InterfacesAreExactAndCountersMove) {
  Db db;
  auto rows = db.rows("SELECT kind, mtu, operstate, flags, flags_list, master FROM interfaces "
                      "WHERE name IN ('lo', 'veth0', 'br0', 'veth2') ORDER BY name");
  EXPECT_EQ(rows, (std::vector<Row>{{"bridge", "1500", "UP", "BMRU", "UP,BROADCAST,RUNNING,MULTICAST", std::nullopt},
                                    {"loopback", "65536", "UNKNOWN", "LRU", "UP,LOOPBACK,RUNNING", std::nullopt},
                                    {"veth", "1500", "UP", "BMRU", "UP,BROADCAST,RUNNING,MULTICAST", std::nullopt},
                                    {"veth", "1500", "UP", "BMRU", "UP,BROADCAST,RUNNING,MULTICAST", "br0"}}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM interfaces WHERE name = 'nosuchif0'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM interfaces WHERE ifindex = 999999"), 0);
  EXPECT_EQ(db.scalar("SELECT ifindex FROM interfaces WHERE name = 'lo'"), 1);
  EXPECT_EQ(db.rows("SELECT name FROM interfaces WHERE \"index\" = 1"), (std::vector<Row>{{"lo"}}));

  long long tx0 = db.scalar("SELECT tx_packets FROM interfaces WHERE name = 'qa'");
  long long txb0 = db.scalar("SELECT tx_bytes FROM interfaces WHERE name = 'qa'");
  int s = udp_socket("10.3.0.1", 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  inet_pton(AF_INET, "10.3.0.2", &to.sin_addr);
  const int kPackets = 37;
  char payload[100] = {};
  for (int i = 0; i < kPackets; ++i)
    ASSERT_EQ(sendto(s, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 100);
  close(s);
  EXPECT_EQ(db.scalar("SELECT tx_packets FROM interfaces WHERE name = 'qa'"), tx0 + kPackets);
  EXPECT_EQ(db.scalar("SELECT tx_bytes FROM interfaces WHERE name = 'qa'"), txb0 + kPackets * (14 + 20 + 8 + 100));

  // Against ip -j -s link: same links, same attributes, same counters on qa.
  expect_same_as_iproute2(
      [&] {
        std::set<std::string> ours;
        for (auto& r : db.rows("SELECT name, ifindex, mtu, operstate, coalesce(mac, ''), txqueuelen, qdisc, "
                               "coalesce(master, ''), CASE name WHEN 'qa' THEN tx_packets || '/' || rx_bytes ELSE '' END "
                               "FROM interfaces")) {
          std::string s;
          for (auto& c : r) s += *c + "|";
          s.pop_back();
          ours.insert(s);
        }
        return ours;
      },
      [] {
        std::set<std::string> theirs;
        for (const auto& l : json::parse(run("ip -j -s link"))) {
          std::string stats = l["ifname"] == "qa" ? std::to_string(l["stats64"]["tx"]["packets"].get<long long>()) + "/" +
                                                        std::to_string(l["stats64"]["rx"]["bytes"].get<long long>())
                                                  : "";
          theirs.insert(std::string(l["ifname"]) + "|" + std::to_string(l["ifindex"].get<int>()) + "|" +
                        std::to_string(l["mtu"].get<int>()) + "|" + std::string(l["operstate"]) + "|" +
                        std::string(l.value("address", "")) + "|" + std::to_string(l.value("txqlen", 0)) + "|" +
                        std::string(l.value("qdisc", "")) + "|" + std::string(l.value("master", "")) + "|" + stats);
        }
        return theirs;
      });
}

TEST_F(Rtnl, AddressesAreExact) {
  Db db;
  auto rows = db.rows("SELECT interface, family, address, prefix_len, netmask, broadcast, scope, label, flags, "
                      "valid_lft_s FROM interface_addresses WHERE interface IN ('veth0', 'br0') AND scope = 'global' "
                      "ORDER BY interface, family, address");
  EXPECT_EQ(rows, (std::vector<Row>{
                      {"br0", "inet", "10.2.0.1", "24", "255.255.255.0", std::nullopt, "global", "br0", "permanent", std::nullopt},
                      {"veth0", "inet", "10.1.0.1", "24", "255.255.255.0", std::nullopt, "global", "veth0", "permanent", std::nullopt},
                      {"veth0", "inet", "10.1.0.5", "24", "255.255.255.0", std::nullopt, "global", "veth0", "secondary,permanent", std::nullopt},
                      {"veth0", "inet6", "fd01::1", "64", std::nullopt, std::nullopt, "global", std::nullopt, "nodad,permanent", std::nullopt},
                  }));
  expect_same_as_iproute2(
      [&] {
        std::set<std::string> ours;
        for (auto& r : db.rows("SELECT interface, family, address, prefix_len, scope, "
                               "CASE WHEN flags LIKE 'secondary%' THEN 'secondary' ELSE '' END FROM interface_addresses"))
          ours.insert(*r[0] + "|" + *r[1] + "|" + *r[2] + "|" + *r[3] + "|" + *r[4] + "|" + *r[5]);
        return ours;
      },
      [] {
        std::set<std::string> theirs;
        for (const auto& l : json::parse(run("ip -j addr")))
          for (const auto& a : l["addr_info"])
            theirs.insert(std::string(l["ifname"]) + "|" + std::string(a["family"]) + "|" + std::string(a["local"]) + "|" +
                          std::to_string(a["prefixlen"].get<int>()) + "|" + std::string(a["scope"]) + "|" +
                          (a.value("secondary", false) ? "secondary" : ""));
        return theirs;
      });
}

TEST_F(Rtnl, NeighborsAreExact) {
  Db db;
  auto rows = db.rows("SELECT family, address, mac, interface, state, router FROM neighbors "
                      "WHERE state = 'PERMANENT' ORDER BY address");
  EXPECT_EQ(rows, (std::vector<Row>{{"inet", "10.1.0.9", "02:00:00:00:00:09", "veth0", "PERMANENT", "0"},
                                    {"inet", "10.3.0.2", "02:00:00:00:00:0b", "qa", "PERMANENT", "0"},
                                    {"inet6", "fd01::9", "02:00:00:00:00:0a", "veth0", "PERMANENT", "0"}}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM neighbors WHERE family = 'inet6' AND state = 'PERMANENT'"), 1);
  expect_same_as_iproute2(
      [&] {
        std::set<std::string> ours;
        for (auto& r : db.rows("SELECT address, coalesce(mac, ''), interface, state FROM neighbors"))
          ours.insert(*r[0] + "|" + *r[1] + "|" + *r[2] + "|" + *r[3]);
        return ours;
      },
      [] {
        std::set<std::string> theirs;
        for (const auto& n : json::parse(run("ip -j neigh show nud all")))
          theirs.insert(std::string(n["dst"]) + "|" + std::string(n.value("lladdr", "")) + "|" + std::string(n["dev"]) +
                        "|" + std::string(n["state"][0]));
        return theirs;
      });
}

}  // namespace
}  // namespace netsql::test
