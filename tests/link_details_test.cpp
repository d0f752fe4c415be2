// interface_settings and interface_details: the devconf decoder on a
// recorded RTM_NEWLINK reply (whole, every truncation, damaged arrays),
// then a veth pair and a bridge in a namespace reached by its name,
// checked against /proc/sys after sysctl changes and against ethtool.
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "kernel/attrs.h"
#include "kernel/devconf.h"
#include "support.h"

namespace netsql::test {
namespace {

std::vector<uint8_t> recorded_link() {
  std::ifstream in(NETSQL_SOURCE_DIR "/tests/fixtures/devconf_link.hex");
  std::string name, hex;
  in >> name >> hex;
  std::vector<uint8_t> b;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return b;
}

const nlmsghdr* hdr(const std::vector<uint8_t>& b) { return reinterpret_cast<const nlmsghdr*>(b.data()); }

std::string describe(const kernel::Devconf& d) {
  std::string s;
  for (const auto& v : {d.ipv4_forwarding, d.rp_filter, d.accept_redirects, d.ipv6_forwarding, d.accept_ra,
                        d.disable_ipv6, d.hop_limit, d.mtu6})
    s += (v ? std::to_string(*v) : "NULL") + " ";
  return s;
}

// Finds attribute `type` among those in b[from, to); returns its offset.
size_t find_attr(const std::vector<uint8_t>& b, size_t from, size_t to, uint16_t type) {
  while (from + 4 <= to) {
    uint16_t len, t;
    std::memcpy(&len, &b[from], 2);
    std::memcpy(&t, &b[from + 2], 2);
    if ((t & NLA_TYPE_MASK) == type) return from;
    if (len < 4) break;
    from += (len + 3u) & ~3u;
  }
  return std::string::npos;
}

// Recorded by tests/fixtures/record_devconf.py: veth v0 with forwarding on
// for both families, rp_filter 2, accept_redirects 0, accept_ra 2,
// hop_limit 33, IPv6 MTU 1400.
TEST(DevconfParse, RecordedReplyGivesTheSettings) {
  auto b = recorded_link();
  ASSERT_GT(b.size(), sizeof(nlmsghdr));
  EXPECT_EQ(describe(kernel::parse_devconf(hdr(b))), "1 2 0 1 2 0 33 1400 ");
  // Another message type has none.
  auto other = b;
  reinterpret_cast<nlmsghdr*>(other.data())->nlmsg_type = RTM_NEWADDR;
  EXPECT_EQ(describe(kernel::parse_devconf(hdr(other))), "NULL NULL NULL NULL NULL NULL NULL NULL ");
}

// Every prefix, in a block of exactly that size (ASan sees any overread),
// gives each setting as the whole does, or absent.
TEST(DevconfParse, EveryTruncationGivesTheSameOrAbsent) {
  auto b = recorded_link();
  kernel::Devconf whole = kernel::parse_devconf(hdr(b));
  auto fields = [](const kernel::Devconf& d) {
    return std::vector<std::optional<int64_t>>{d.ipv4_forwarding, d.rp_filter, d.accept_redirects, d.ipv6_forwarding,
                                               d.accept_ra, d.disable_ipv6, d.hop_limit, d.mtu6};
  };
  size_t complete = 0, spec = find_attr(b, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), b.size(), IFLA_AF_SPEC);
  ASSERT_NE(spec, std::string::npos);
  for (size_t n = sizeof(nlmsghdr); n <= b.size(); ++n) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[n]);
    std::memcpy(copy.get(), b.data(), n);
    reinterpret_cast<nlmsghdr*>(copy.get())->nlmsg_len = static_cast<uint32_t>(n);
    auto got = fields(kernel::parse_devconf(reinterpret_cast<nlmsghdr*>(copy.get())));
    auto want = fields(whole);
    bool all = true;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(!got[i] || got[i] == want[i]) << n;
      all &= got[i].has_value();
    }
    complete += all;
    if (n <= spec) {  // cut before IFLA_AF_SPEC: nothing
      ASSERT_EQ(describe(kernel::parse_devconf(reinterpret_cast<nlmsghdr*>(copy.get()))),
                "NULL NULL NULL NULL NULL NULL NULL NULL ") << n;
    }
  }
  EXPECT_GE(complete, 1u);
}

TEST(DevconfParse, DamagedAttributesLeaveSettingsAbsent) {
  auto b = recorded_link();
  size_t spec = find_attr(b, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), b.size(), IFLA_AF_SPEC);
  ASSERT_NE(spec, std::string::npos);
  uint16_t spec_len;
  std::memcpy(&spec_len, &b[spec], 2);
  size_t inet = find_attr(b, spec + 4, spec + spec_len, AF_INET);
  ASSERT_NE(inet, std::string::npos);
  size_t conf = find_attr(b, inet + 4, b.size(), IFLA_INET_CONF);
  ASSERT_NE(conf, std::string::npos);
  {  // An IPv4 array cut to 3 values keeps forwarding (index 0) only... and accept_redirects (index 3) goes.
    auto d = b;
    uint16_t len = 4 + 3 * 4;
    std::memcpy(&d[conf], &len, 2);
    // The walk of the AF_INET nest now meets garbage after the short attribute:
    // it stops there, but what came before stands.
    auto got = kernel::parse_devconf(hdr(d));
    EXPECT_EQ(got.ipv4_forwarding, 1);
    EXPECT_FALSE(got.accept_redirects);
    EXPECT_FALSE(got.rp_filter);
    EXPECT_EQ(got.hop_limit, 33);  // IPv6 untouched
  }
  {  // An AF_SPEC claiming more bytes than the message has: nothing is read from it.
    auto d = b;
    uint16_t len = 0xfff0;
    std::memcpy(&d[spec], &len, 2);
    EXPECT_EQ(describe(kernel::parse_devconf(hdr(d))), "NULL NULL NULL NULL NULL NULL NULL NULL ");
  }
}

// ---- live ----

class LinkDetails : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    add_peer("ld");
    sh(in_peer("ip link add v0 type veth peer name v1") + " && " + in_peer("ip link add br0 type bridge") + " && " +
       in_peer("ip link set v1 master br0") + " && " + in_peer("ip link set v0 up") + " && " +
       in_peer("ip link set v1 up") + " && " + in_peer("ip link set br0 up"));
  }
};

TEST_F(LinkDetails, SettingsEqualProcSysAfterSysctl) {
  sh(in_peer("sysctl -qw net.ipv4.conf.v0.forwarding=1 net.ipv4.conf.v0.rp_filter=2 "
             "net.ipv4.conf.br0.accept_redirects=0 net.ipv6.conf.v0.forwarding=1 net.ipv6.conf.br0.accept_ra=2 "
             "net.ipv6.conf.v1.disable_ipv6=1 net.ipv6.conf.v0.hop_limit=33 net.ipv6.conf.v0.mtu=1400"));
  Db db;
  auto rows = db.rows("SELECT name, ipv4_forwarding, rp_filter, accept_redirects, ipv6_forwarding, accept_ra, "
                      "disable_ipv6, hop_limit, mtu6_bytes FROM interface_settings('" + peer_ + "') ORDER BY name");
  std::vector<Row> want;
  for (const char* name : {"br0", "lo", "v0", "v1"}) {
    Row r{name};
    auto proc = [&](const std::string& path) {
      std::string v = run(in_peer("cat /proc/sys/net/" + path));
      while (!v.empty() && v.back() == '\n') v.pop_back();
      return Cell(v);
    };
    std::string n = name;
    for (const char* k : {"forwarding", "rp_filter", "accept_redirects"}) r.push_back(proc("ipv4/conf/" + n + "/" + k));
    for (const char* k : {"forwarding", "accept_ra", "disable_ipv6", "hop_limit", "mtu"})
      r.push_back(proc("ipv6/conf/" + n + "/" + k));
    want.push_back(r);
  }
  EXPECT_EQ(rows, want);
  // The changed values themselves, so that the comparison above is not of defaults alone.
  EXPECT_EQ(db.rows("SELECT ipv4_forwarding, rp_filter, ipv6_forwarding, hop_limit, mtu6_bytes FROM "
                    "interface_settings('" + peer_ + "') WHERE name = 'v0'"),
            (std::vector<Row>{{"1", "2", "1", "33", "1400"}}));
  EXPECT_EQ(db.rows("SELECT accept_redirects, accept_ra FROM interface_settings WHERE netns = '" + peer_ +
                    "' AND name = 'br0'"),
            (std::vector<Row>{{"0", "2"}}));
  EXPECT_EQ(db.rows("SELECT disable_ipv6 FROM interface_settings('" + peer_ + "') WHERE ifindex = "
                    "(SELECT ifindex FROM interface_settings('" + peer_ + "') WHERE name = 'v1')"),
            (std::vector<Row>{{"1"}}));
  // The caller's namespace has lo alone.
  EXPECT_EQ(db.rows("SELECT name FROM interface_settings"), (std::vector<Row>{{"lo"}}));
}

// "Speed: 10000Mb/s" -> "10000"; the value of `key` in ethtool's output.
std::string field(const std::string& out, const std::string& key) {
  size_t at = out.find(key + ": ");
  if (at == std::string::npos) return "";
  size_t end = out.find('\n', at);
  return out.substr(at + key.size() + 2, end - at - key.size() - 2);
}

TEST_F(LinkDetails, DetailsEqualEthtool) {
  Db db;
  const std::map<std::string, std::string> ports{{"Twisted Pair", "tp"}, {"Other", "other"}, {"FIBRE", "fibre"},
                                                 {"Direct Attach Copper", "da"}, {"None", "none"}, {"MII", "mii"}};
  for (const char* name : {"v0", "v1", "br0"}) {
    std::string link = run(in_peer(std::string("ethtool ") + name + " 2>/dev/null"));
    std::string info = run(in_peer(std::string("ethtool -i ") + name + " 2>/dev/null"));
    std::string speed = field(link, "Speed"), duplex = field(link, "Duplex");
    auto cell = [](const std::string& v) { return v.empty() || v == "Unknown!" ? Cell() : Cell(v); };
    Row want{cell(speed.substr(0, speed.find("Mb/s"))),
             duplex == "Full" ? Cell("full") : duplex == "Half" ? Cell("half") : Cell(),
             field(link, "Auto-negotiation") == "on" ? "1" : "0",
             cell(ports.count(field(link, "Port")) ? ports.at(field(link, "Port")) : ""),
             cell(field(info, "driver")), cell(field(info, "version")), cell(field(info, "firmware-version")),
             cell(field(info, "bus-info"))};
    EXPECT_EQ(db.rows("SELECT speed_mbps, duplex, autoneg, port, driver, driver_version, firmware_version, bus_info "
                      "FROM interface_details('" + peer_ + "') WHERE name = '" + name + "'"),
              std::vector<Row>{want})
        << name << "\n" << link << info;
  }
  // veth says 10G full duplex; the bridge is driven by "bridge".
  EXPECT_EQ(db.rows("SELECT name, speed_mbps, duplex, driver FROM interface_details('" + peer_ +
                    "') WHERE name IN ('v0', 'br0') ORDER BY name"),
            (std::vector<Row>{{"br0", "10000", {}, "bridge"}, {"v0", "10000", "full", "veth"}}));
  // lo answers neither ioctl: NULLs, not an error.
  EXPECT_EQ(db.rows("SELECT speed_mbps, duplex, autoneg, port, driver FROM interface_details WHERE name = 'lo'"),
            (std::vector<Row>{{{}, {}, {}, {}, {}}}));
}

// Neither table needs privileges: nobody reads the same values (in the
// caller's namespace: entering another needs CAP_SYS_ADMIN).
TEST_F(LinkDetails, UnprivilegedCallerReadsTheSame) {
  sh("ip link add u0 type veth peer name u1 && ip link set u0 up && ip link set u1 up");
  sh("sysctl -qw net.ipv6.conf.u0.hop_limit=44");
  EXPECT_EQ(run_as_nobody({"SELECT speed_mbps || ' ' || duplex || ' ' || driver FROM interface_details WHERE name = 'u0'",
                           "SELECT hop_limit FROM interface_settings WHERE name = 'u0'"}),
            "10000 full veth;44;");
}

// A pushed index or name no link can have finds nothing in each link table,
// whatever the kernel would make of it: 2^32 + 1 would wrap to 1 (lo) if
// narrowed unchecked, and a name too long for IFNAMSIZ is never sent.
TEST_F(LinkDetails, ImpossibleIndexOrNameFindsNoLink) {
  Db db;
  for (const char* table : {"interfaces", "interface_details", "interface_settings"}) {
    const std::string from = std::string(" FROM ") + table + "('" + peer_ + "')";
    EXPECT_EQ(db.scalar("SELECT count(*)" + from + " WHERE ifindex = 1"), 1) << table;
    for (const char* impossible : {"4294967297", "-1", "0", "2147483648"})
      EXPECT_EQ(db.scalar(std::string("SELECT count(*)") + from + " WHERE ifindex = " + impossible), 0)
          << table << " ifindex = " << impossible;
    EXPECT_EQ(db.scalar("SELECT count(*)" + from + " WHERE name = 'lo'"), 1) << table;
    for (const char* impossible : {"''", "'abcdefghijklmnop'", "'lo' || char(0)"})
      EXPECT_EQ(db.scalar(std::string("SELECT count(*)") + from + " WHERE name = " + impossible), 0)
          << table << " name = " << impossible;
  }
}

}  // namespace
}  // namespace netsql::test
