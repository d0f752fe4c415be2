// route_get: the kernel's route lookup as a table, checked against
// `ip -j route get` for the same destinations in a private namespace (main
// table, a policy rule with its own table, a fwmark rule, blackhole,
// unreachable, prohibit, no route, local, IPv6), joined with tcp_sockets,
// and its argument errors; the lookup's netlink exchange on one socket.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "kernel/cidr.h"
#include "kernel/netns.h"
#include "kernel/rtnl.h"
#include "support.h"

namespace netsql::test {
namespace {

using json = nlohmann::json;

class RouteGet : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    sh(R"(set -e
ip link add v0 type veth peer name v1
ip link set v0 up; ip link set v1 up
ip addr add 10.1.0.1/24 dev v0
ip -6 addr add fd01::1/64 dev v0 nodad
ip route add 10.50.0.0/16 via 10.1.0.2
ip route add default via 10.1.0.254
ip route add blackhole 10.80.0.0/16
ip route add unreachable 10.81.0.0/16
ip route add prohibit 10.82.0.0/16
ip route add 10.60.0.0/16 via 10.1.0.3 table 100
ip rule add to 10.60.0.0/16 table 100
ip route add 10.70.0.0/16 via 10.1.0.4 table 101
ip rule add fwmark 7 table 101
ip -6 route add fd50::/16 via fd01::2 metric 50
ip -6 route add blackhole fd80::/16
ip -6 route add unreachable fd81::/16
)");
  }
};

// What ip prints for `ip -j route get <args>`, in our terms:
// type|gateway|interface|table_name|preferred_source, or "error: <text>". With -d, ip names
// every table but none (0: no table answered, as for a forced oif).
std::string ip_route_get(const std::string& args) {
  std::string out = run("ip -d -j route get " + args + " 2>&1");  // -d: table even when main
  const std::string kAnswer = "RTNETLINK answers: ";
  if (out.rfind(kAnswer, 0) == 0) return "error: " + out.substr(kAnswer.size(), out.find('\n') - kAnswer.size());
  json r = json::parse(out).at(0);
  return std::string(r.value("type", "unicast")) + "|" + std::string(r.value("gateway", "")) + "|" +
         std::string(r.value("dev", "")) + "|" + std::string(r.value("table", "unspec")) + "|" +
         std::string(r.value("prefsrc", ""));
}

std::string ours(Db& db, const std::string& where) {
  auto rows = db.rows("SELECT coalesce(type, ''), coalesce(gateway, ''), coalesce(interface, ''), "
                      "coalesce(table_name, ''), coalesce(preferred_source, ''), error FROM route_get WHERE " + where);
  if (rows.size() != 1) return "rows: " + std::to_string(rows.size());
  const Row& r = rows[0];
  if (r[5]) return "error: " + *r[5];
  return *r[0] + "|" + *r[1] + "|" + *r[2] + "|" + *r[3] + "|" + *r[4];
}

TEST_F(RouteGet, AnswersAsIpRouteGet) {
  Db db;
  for (std::string d : {"10.50.1.1", "8.8.8.8", "10.60.9.9", "10.80.1.1", "10.81.1.1", "10.82.1.1", "10.1.0.1",
                        "10.1.0.255", "127.0.0.1", "fd50::1", "fd80::1", "fd81::1", "fd01::1", "2001:db8::1"}) {
    SCOPED_TRACE(d);
    EXPECT_EQ(ours(db, "destination = '" + d + "'"), ip_route_get(d));
  }
  // The arguments that steer the lookup: mark (a fwmark rule), source, output interface.
  EXPECT_EQ(ours(db, "destination = '10.70.1.1' AND mark = 7"), ip_route_get("10.70.1.1 mark 7"));
  EXPECT_EQ(ours(db, "destination = '10.70.1.1' AND mark = 8"), ip_route_get("10.70.1.1 mark 8"));
  EXPECT_EQ(ours(db, "destination = '10.50.1.1' AND source = '10.1.0.1'"), ip_route_get("10.50.1.1 from 10.1.0.1"));
  EXPECT_EQ(ours(db, "destination = '8.8.8.8' AND oif = 'v1'"), ip_route_get("8.8.8.8 oif v1"));
  EXPECT_EQ(ours(db, "destination = '10.50.1.1' AND source = '10.1.0.9' AND iif = 'v1'"),
            ip_route_get("10.50.1.1 from 10.1.0.9 iif v1"));
  // The documented exact rows: a route, and a refusal (route columns NULL).
  EXPECT_EQ(db.rows("SELECT * FROM route_get('10.60.9.9')"),
            (std::vector<Row>{{"inet", "unicast", "10.60.9.9", "32", "10.1.0.3", "v0", "10.1.0.1", "100", "100",
                               std::nullopt, "unspec", "global", std::nullopt, std::nullopt, std::nullopt}}));
  EXPECT_EQ(db.rows("SELECT * FROM route_get('10.80.1.1')"),
            (std::vector<Row>{{"inet", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                               std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                               std::nullopt, std::nullopt, "Invalid argument"}}));
  // fibmatch: the FIB entry itself, as ip route get fibmatch.
  EXPECT_EQ(db.rows("SELECT prefix, prefix_len, gateway FROM route_get WHERE destination = '10.50.1.1' "
                    "AND fibmatch = 1"),
            (std::vector<Row>{{"10.50.0.0", "16", "10.1.0.2"}}));
  EXPECT_EQ(db.rows("SELECT prefix, prefix_len, metric FROM route_get('fd50::1') WHERE fibmatch = 1"),
            (std::vector<Row>{{"fd50::", "16", "50"}}));
}

TEST_F(RouteGet, OneRowPerDestinationEchoingItsArguments) {
  Db db;
  EXPECT_EQ(db.rows("SELECT destination, gateway, error FROM route_get "
                    "WHERE destination IN ('10.50.1.1', '10.80.1.1', 'fd50::1') ORDER BY destination"),
            (std::vector<Row>{{"10.50.1.1", "10.1.0.2", std::nullopt},
                              {"10.80.1.1", std::nullopt, "Invalid argument"},
                              {"fd50::1", "fd01::2", std::nullopt}}));
  EXPECT_EQ(db.rows("SELECT destination, source, mark, oif, fibmatch FROM route_get('10.70.1.1', '10.1.0.1') "
                    "WHERE mark = 7 AND oif = 'v0'"),
            (std::vector<Row>{{"10.70.1.1", "10.1.0.1", "7", "v0", std::nullopt}}));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM route_get WHERE destination = NULL"), 0);
}

TEST_F(RouteGet, JoinsWithSockets) {
  // A loopback connection and two connection attempts that stay in
  // SYN_SENT (nothing answers on v0): one through main, one through table 100.
  int l = tcp_listener("127.0.0.1", 0);
  int c = tcp_connect("127.0.0.1", local_port(l));
  int a = tcp_accept(l);
  std::vector<int> pending;
  for (const char* to : {"10.50.1.1", "10.60.1.1"}) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(80);
    inet_pton(AF_INET, to, &sa.sin_addr);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), -1);
    ASSERT_EQ(errno, EINPROGRESS);
    pending.push_back(fd);
  }
  Db db;
  const std::string join =
      "FROM tcp_sockets t JOIN route_get r ON r.destination = t.remote_address WHERE t.state != 'LISTEN'";
  auto rows = db.rows("SELECT t.remote_address, r.interface, r.gateway, r.table_name " + join);
  std::multiset<std::string> got;
  for (const auto& r : rows) got.insert(*r[0] + "|" + *r[1] + "|" + r[2].value_or("NULL") + "|" + *r[3]);
  EXPECT_EQ(got, (std::multiset<std::string>{"127.0.0.1|lo|NULL|local", "127.0.0.1|lo|NULL|local",
                                             "10.50.1.1|v0|10.1.0.2|main", "10.60.1.1|v0|10.1.0.3|100"}));
  // route_get runs inside the join, handed each remote address.
  auto plan = db.rows("EXPLAIN QUERY PLAN SELECT r.interface " + join);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_NE(plan[1][3]->find("SCAN r VIRTUAL TABLE INDEX 1:destination EQ"), std::string::npos) << *plan[1][3];
  for (int fd : pending) close(fd);
  close(a);
  close(c);
  close(l);
}

// A lookup asks for no ACK: its one answer, the route or the kernel's
// refusal, ends it. One socket serves lookups, refusals (an explained one
// too) and interface-name requests in turn, each request getting its own
// answer and nothing left unread. A receive deadline makes a wait for a
// message that never comes a failure rather than a hang.
TEST_F(RouteGet, EachLookupEndsAtItsOneAnswer) {
  kernel::Netns here;
  kernel::LinkNameCache links(here);
  kernel::NetlinkSocket& s = links.socket();
  timeval deadline{10, 0};
  ASSERT_EQ(setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline), 0);
  auto lookup = [&](const char* to) {
    kernel::RouteLookup l;
    auto h = kernel::parse_host(to);
    l.family = h->family;
    std::copy(std::begin(h->bytes), std::end(h->bytes), l.destination);
    std::vector<uint8_t> reply;
    if (int err = kernel::route_get(s, l, reply)) return "error: " + std::string(std::strerror(err));
    kernel::RouteMessage r;
    if (!r.parse(reinterpret_cast<const nlmsghdr*>(reply.data()))) return std::string("not a route");
    return r.nexthop(0).gateway_text() + " " + links.name(r.nexthop(0).oif);
  };
  EXPECT_EQ(lookup("10.50.1.1"), "10.1.0.2 v0");
  EXPECT_EQ(lookup("10.80.1.1"), "error: Invalid argument");
  EXPECT_EQ(lookup("10.60.9.9"), "10.1.0.3 v0");
  EXPECT_EQ(lookup("fd81::1"), "error: No route to host");
  // A malformed lookup: the kernel explains its refusal, which ends the
  // exchange too.
  kernel::Request bad(RTM_GETROUTE, NLM_F_REQUEST);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_flags = RTM_F_PREFIX;  // not a lookup flag
  bad.append(rt);
  try {
    kernel::Dump d(s, bad);
    while (d.next()) {
    }
    ADD_FAILURE() << "the kernel answered a lookup with rtm_flags RTM_F_PREFIX";
  } catch (const kernel::Refusal& e) {
    EXPECT_EQ(e.error(), EINVAL);
    EXPECT_NE(e.explanation(), "");
  }
  EXPECT_EQ(lookup("fd50::1"), "fd01::2 v0");
  char byte;
  EXPECT_EQ(recv(s.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(RouteGet, BadArgumentsAreErrors) {
  Db db;
  EXPECT_EQ(db.error("SELECT * FROM route_get"),
            "route_get: destination is required: WHERE destination = ... (or IN), or as a table argument");
  EXPECT_EQ(db.error("SELECT * FROM route_get WHERE destination LIKE '10.%'"),
            "route_get: destination is required: WHERE destination = ... (or IN), or as a table argument");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.300')"),
            "route_get: invalid destination '10.1.2.300' (expected an IPv4 or IPv6 address)");
  EXPECT_EQ(db.error("SELECT * FROM route_get(42)"),
            "route_get: invalid destination 42 (expected an IPv4 or IPv6 address)");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.3', 'fd01::1')"),
            "route_get: source fd01::1 and destination 10.1.2.3 are of different families");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.3') WHERE oif = 'nosuch0'"),
            "route_get: no such interface 'nosuch0' for oif");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.3') WHERE iif = 0"),
            "route_get: iif must be an interface name or index");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.3') WHERE mark = 4294967296"),
            "route_get: mark must be an integer from 0 to 4294967295");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.3') WHERE uid = -1"),
            "route_get: uid must be an integer from 0 to 4294967295");
  EXPECT_EQ(db.error("SELECT * FROM route_get('10.1.2.3') WHERE fibmatch = 2"), "route_get: fibmatch must be 0 or 1");
}

}  // namespace
}  // namespace netsql::test
