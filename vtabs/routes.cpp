// routes: every route of every routing table, IPv4 and IPv6, from
// RTM_GETROUTE; one row per nexthop of a multipath route.
#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"
#include "vtabs/filters.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  FAMILY, DESTINATION, PREFIX_LEN, NETMASK, GATEWAY, INTERFACE, PREFERRED_SOURCE, METRIC, TABLE_ID, TABLE_NAME,
  PROTOCOL, SCOPE, TYPE, FLAGS, MTU, WINDOW, IRTT, EXPIRES_MS, NEXTHOP_WEIGHT, TOS, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    {"family", Type::Text, "'inet' or 'inet6'", kPushIn, 0.5, "picks the dump family"},
    {"destination", Type::Text, "destination network, canonical text; 0.0.0.0 or :: for the default route"},
    {"prefix_len", Type::Integer, "destination prefix length"},
    {"netmask", Type::Text, "IPv4 netmask in dotted form, as netstat -r shows it; NULL for IPv6"},
    {"gateway", Type::Text, "next-hop gateway (RTA_GATEWAY, or RTA_VIA: an IPv6 gateway of an IPv4 route); NULL when none"},
    {"interface", Type::Text, "output interface of this nexthop; NULL when none"},
    {"preferred_source", Type::Text, "preferred source address (RTA_PREFSRC); NULL when none"},
    {"metric", Type::Integer, "route priority (RTA_PRIORITY), 0 when unset"},
    {"table_id", Type::Integer, "routing table number", kPushIn, 0.2, "the kernel filters by table"},
    {"table_name", Type::Text, "main, local, default, a name from rt_tables, or the number as text"},
    {"protocol", Type::Text, "who installed it: kernel, boot, static, dhcp, ra, bgp, ... or the number"},
    {"scope", Type::Text, "global, site, link, host, nowhere, or the number"},
    {"type", Type::Text, "unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw, nat"},
    {"flags", Type::Text, "netstat -r flag letters: U up, G gateway, H host, D dynamic (redirect), A addrconf (ra), "
                          "C cache, ! reject"},
    {"mtu", Type::Integer, "path MTU metric (RTAX_MTU); NULL when unset"},
    {"window", Type::Integer, "TCP window clamp metric (RTAX_WINDOW); NULL when unset"},
    {"irtt", Type::Integer, "initial round-trip time metric, milliseconds (RTAX_RTT/8, as netstat -r); NULL when unset"},
    {"expires_ms", Type::Integer, "milliseconds until the route expires; NULL when it does not"},
    {"nexthop_weight", Type::Integer, "weight of this nexthop of a multipath route; NULL for a single-path route"},
    {"tos", Type::Integer, "type-of-service selector (rtm_tos), 0 for any"},
}};

struct Row {
  kernel::Route route;
  kernel::Nexthop nh;
  std::string interface;
};

std::string netmask_text(unsigned prefix) {
  uint32_t mask = prefix == 0 ? 0 : htonl(~uint32_t{0} << (32 - prefix));
  return kernel::address_text(AF_INET, &mask);
}

std::string route_flags(const kernel::Route& r, const kernel::Nexthop& nh) {
  std::string f = "U";
  if (!nh.gateway.empty()) f += 'G';
  if (r.dst_len == (r.family == AF_INET ? 32 : 128)) f += 'H';
  if (r.protocol == RTPROT_REDIRECT) f += 'D';
  if (r.protocol == RTPROT_RA) f += 'A';
  if (r.flags & RTM_F_CLONED) f += 'C';
  if (r.type == RTN_UNREACHABLE || r.type == RTN_PROHIBIT || r.type == RTN_BLACKHOLE) f += '!';
  return f;
}

class RoutesCursor final : public RowsCursor<Row> {
  void load(const Query& q, std::vector<Row>& rows) override {
    std::vector<int64_t> tables{0};
    if (const auto* v = q.values(TABLE_ID)) tables = integers_from(*v, 1, UINT32_MAX);
    auto fams = families(q, FAMILY);
    if (fams.empty() || tables.empty()) return;
    kernel::NetlinkSocket rtnl = kernel::rtnl_socket(*q.netns);
    auto names = kernel::link_names(rtnl);
    for (uint8_t fam : fams)
      for (int64_t table : tables)
        for (auto& r : kernel::dump_routes(rtnl, fam, static_cast<uint32_t>(table)))
          for (const auto& nh : r.nexthops) rows.push_back({r, nh, kernel::link_name(names, nh.oif)});
    tables_ = kernel::RouteTables();
  }

  void column(const Row& row, int col, Cell& out) override {
    const kernel::Route& r = row.route;
    switch (col) {
      case FAMILY: return out.text(family_name(r.family));
      case DESTINATION: return out.text(r.destination);
      case PREFIX_LEN: return out.integer(r.dst_len);
      case NETMASK: return r.family == AF_INET ? out.text(netmask_text(r.dst_len)) : out.null();
      case GATEWAY: return out.text_or_null(row.nh.gateway);
      case INTERFACE: return out.text_or_null(row.interface);
      case PREFERRED_SOURCE: return out.text_or_null(r.prefsrc);
      case METRIC: return out.integer(r.priority.value_or(0));
      case TABLE_ID: return out.integer(r.table);
      case TABLE_NAME: return out.text(tables_.name(r.table));
      case PROTOCOL: return out.text(kernel::route_protocol_name(r.protocol));
      case SCOPE: return out.text(kernel::route_scope_name(r.scope));
      case TYPE: return out.text(kernel::route_type_name(r.type));
      case FLAGS: return out.text(route_flags(r, row.nh));
      case MTU: return out.integer(r.mtu);
      case WINDOW: return out.integer(r.window);
      case IRTT: return r.rtt ? out.integer(*r.rtt / 8) : out.null();
      case EXPIRES_MS: return out.integer(r.expires_ms);
      case NEXTHOP_WEIGHT: return out.integer(row.nh.weight);
      case TOS: return out.integer(r.tos);
      default: return out.null();
    }
  }

  kernel::RouteTables tables_;
};

}  // namespace

const TableDef kRoutes{
    "routes",
    "Routes of every routing table (IPv4 and IPv6) from rtnetlink; one row per nexthop of a multipath route.",
    kColumns,
    50,
    [] { return std::unique_ptr<Cursor>(new RoutesCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
