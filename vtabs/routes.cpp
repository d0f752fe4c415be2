// routes: every route of every routing table, IPv4 and IPv6, streamed
// from RTM_GETROUTE dumps; one row per nexthop of a multipath route.
#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include <bitset>

#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"
#include "vtabs/filters.h"
#include "vtabs/rtnl_rows.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  FAMILY, DESTINATION, PREFIX_LEN, NETMASK, GATEWAY, INTERFACE, PREFERRED_SOURCE, METRIC, TABLE_ID, TABLE_NAME,
  PROTOCOL, SCOPE, TYPE, FLAGS, MTU, WINDOW, IRTT, EXPIRES_MS, NEXTHOP_WEIGHT, TOS, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    key({"family", Type::Text, "'inet' or 'inet6'", kPushIn, 0.5, "picks the dump family"}),
    key({"destination", Type::Text, "destination network, canonical text; 0.0.0.0 or :: for the default route", kPushIn,
         0.001, "other routes are skipped before they are decoded; the kernel has no prefix filter for dumps"}),
    key({"prefix_len", Type::Integer, "destination prefix length", kPushIn, 0.1, "as for destination"}),
    key({"netmask", Type::Text, "IPv4 netmask in dotted form, as netstat -r shows it; NULL for IPv6"}),
    key({"gateway", Type::Text,
         "next-hop gateway (RTA_GATEWAY, or RTA_VIA: an IPv6 gateway of an IPv4 route); NULL when none"}),
    key({"interface", Type::Text, "output interface of this nexthop; NULL when none"}),
    key({"preferred_source", Type::Text, "preferred source address (RTA_PREFSRC); NULL when none"}),
    key({"metric", Type::Integer, "route priority (RTA_PRIORITY), 0 when unset"}),
    key({"table_id", Type::Integer, "routing table number", kPushIn, 0.2, "the kernel filters by table"}),
    key({"table_name", Type::Text, "main, local, default, a name from rt_tables, or the number as text"}),
    key({"protocol", Type::Text, "who installed it: kernel, boot, static, dhcp, ra, bgp, ... or the number",
         kPushIn, 0.2,
         "the kernel filters by protocol"}),
    key({"scope", Type::Text, "global, site, link, host, nowhere, or the number"}),
    key({"type", Type::Text,
         "unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw, nat",
         kPushIn, 0.2, "the kernel filters by type"}),
    key({"flags", Type::Text, "netstat -r flag letters: U up, G gateway, H host, D dynamic (redirect), "
                              "A addrconf (ra), "
                              "C cache, ! reject"}),
    key({"mtu", Type::Integer, "path MTU metric (RTAX_MTU); NULL when unset"}),
    key({"window", Type::Integer, "TCP window clamp metric (RTAX_WINDOW); NULL when unset"}),
    key({"irtt", Type::Integer,
         "initial round-trip time metric, milliseconds (RTAX_RTT/8, as netstat -r); NULL when unset"}),
    {"expires_ms", Type::Integer, "milliseconds until the route expires; NULL when it does not"},
    key({"nexthop_weight", Type::Integer, "weight of this nexthop of a multipath route; NULL for a single-path route"}),
    key({"tos", Type::Integer, "type-of-service selector (rtm_tos), 0 for any"}),
}};

std::string netmask_text(unsigned prefix) {
  uint32_t mask = prefix == 0 ? 0 : htonl(~uint32_t{0} << (32 - prefix));
  return kernel::address_text(AF_INET, &mask);
}

// The kernel numbers whose names `values` give (an integer value compares
// as its text, as the column's TEXT affinity makes SQLite do). Error for
// text that is neither a known name nor a number. 0 ("unspec") means "any"
// to the kernel, so it leaves the column unfiltered: {0}.
template <class Name>
std::vector<uint8_t> numbers_named(const std::vector<Value>& values, Name name, std::string_view column) {
  std::vector<uint8_t> out;
  for (const auto& v : values) {
    std::string t = v.kind == Value::Kind::Integer ? std::to_string(v.i) : v.as_text() ? *v.as_text() : "";
    if (v.kind != Value::Kind::Integer && !v.as_text()) continue;  // a real or blob equals no name
    int found = -1;
    for (int n = 0; n < 256 && found < 0; ++n)
      if (name(static_cast<unsigned>(n)) == t) found = n;
    if (found == 0) return {0};
    if (found > 0) out.push_back(static_cast<uint8_t>(found));
    else if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos)
      throw Error("invalid " + std::string(column) + " '" + t + "' (expected a name such as " + name(1) + " or " +
                  name(2) + ", or a number)");
  }
  return out;
}

class RoutesCursor final : public RtnlCursor {
 public:
  RoutesCursor() : RtnlCursor("routes") {}

 private:
  std::vector<kernel::Request> requests(const Query& q) override {
    tables_ = {};
    auto fams = families(q, FAMILY);
    std::vector<int64_t> tables{0};
    if (const auto* v = q.values(TABLE_ID)) tables = integers_from(*v, 1, UINT32_MAX);
    std::vector<uint8_t> protocols{0}, types{0};
    if (const auto* v = q.values(PROTOCOL)) protocols = numbers_named(*v, kernel::route_protocol_name, "protocol");
    if (const auto* v = q.values(TYPE)) types = numbers_named(*v, kernel::route_type_name, "type");

    destinations_.reset();
    if (const auto* v = q.values(DESTINATION)) {
      destinations_.emplace();
      for (const auto& val : *v)
        if (const std::string* t = val.as_text())
          if (auto h = kernel::parse_host(*t)) destinations_->push_back(*h);
      std::erase_if(fams, [&](uint8_t f) {
        return std::none_of(destinations_->begin(), destinations_->end(), [f](const auto& h) { return h.family == f; });
      });
    }
    prefix_lens_.reset();
    if (const auto* v = q.values(PREFIX_LEN)) {
      prefix_lens_.emplace();
      for (int64_t len : integers_from(*v, 0, 128)) prefix_lens_->set(static_cast<size_t>(len));
    }

    std::vector<kernel::Request> reqs;
    // One dump per combination; past a handful, protocol and type are left
    // to SQLite (each dump walks the whole table in the kernel).
    if (fams.size() * tables.size() * protocols.size() * types.size() > 16) protocols = types = {0};
    for (uint8_t fam : fams)
      for (int64_t table : tables)
        for (uint8_t protocol : protocols)
          for (uint8_t type : types)
            reqs.push_back(kernel::route_dump_request(fam, static_cast<uint32_t>(table), protocol, type));
    return reqs;
  }

  std::vector<int> empty_on() const override { return {ENOENT}; }  // the family has no such table

  bool accept(const nlmsghdr* m) override {
    if (prefix_lens_ || destinations_) {  // skip unwanted routes before decoding them
      rtmsg h;
      kernel::Bytes dst;
      if (!kernel::RouteMessage::peek(m, h, dst)) return false;
      if (prefix_lens_ && !prefix_lens_->test(h.rtm_dst_len)) return false;
      if (destinations_ && !destination_wanted(h.rtm_family, dst)) return false;
    }
    if (!route_.parse(m)) return false;
    at_ = 0;
    nexthop_.reset();
    return true;
  }

  bool next_in_message() override {
    if (at_ + 1 >= route_.nexthop_count()) return false;
    ++at_;
    nexthop_.reset();
    return true;
  }

  // RTA_DST equals one of the pushed destinations (the default route has
  // no RTA_DST and shows as the all-zero address).
  bool destination_wanted(uint8_t family, kernel::Bytes dst) const {
    size_t len = family == AF_INET ? 4 : 16;
    for (const auto& h : *destinations_) {
      if (h.family != family) continue;
      if (!dst.data() && std::all_of(h.bytes, h.bytes + len, [](uint8_t b) { return b == 0; })) return true;
      if (dst.size() == len && std::equal(dst.begin(), dst.end(), h.bytes)) return true;
    }
    return false;
  }

  const kernel::Nexthop& nexthop() {
    if (!nexthop_) nexthop_ = route_.nexthop(at_);
    return *nexthop_;
  }

  std::string flags() {
    const rtmsg& h = route_.header();
    std::string f = "U";
    if (!nexthop().gateway.empty()) f += 'G';
    if (h.rtm_dst_len == (h.rtm_family == AF_INET ? 32 : 128)) f += 'H';
    if (h.rtm_protocol == RTPROT_REDIRECT) f += 'D';
    if (h.rtm_protocol == RTPROT_RA) f += 'A';
    if (h.rtm_flags & RTM_F_CLONED) f += 'C';
    if (h.rtm_type == RTN_UNREACHABLE || h.rtm_type == RTN_PROHIBIT || h.rtm_type == RTN_BLACKHOLE) f += '!';
    return f;
  }

  void column(int col, Cell& out) override {
    const rtmsg& h = route_.header();
    switch (col) {
      case FAMILY: return out.text(family_name(h.rtm_family));
      case DESTINATION: return out.text(route_.destination());
      case PREFIX_LEN: return out.integer(h.rtm_dst_len);
      case NETMASK:
        return h.rtm_family == AF_INET && h.rtm_dst_len <= 32 ? out.text(netmask_text(h.rtm_dst_len)) : out.null();
      case GATEWAY: return out.text_or_null(nexthop().gateway_text());
      case INTERFACE: return out.text_or_null(link_name(nexthop().oif));
      case PREFERRED_SOURCE: return out.text_or_null(route_.prefsrc());
      case METRIC: return out.integer(route_.priority().value_or(0));
      case TABLE_ID: return out.integer(route_.table());
      case TABLE_NAME:
        return out.text(tables_.name(route_.table()));
      case PROTOCOL: return out.text(kernel::route_protocol_name(h.rtm_protocol));
      case SCOPE: return out.text(kernel::route_scope_name(h.rtm_scope));
      case TYPE: return out.text(kernel::route_type_name(h.rtm_type));
      case FLAGS: return out.text(flags());
      case MTU: return out.integer(route_.metric(RTAX_MTU));
      case WINDOW: return out.integer(route_.metric(RTAX_WINDOW));
      case IRTT: {
        auto rtt = route_.metric(RTAX_RTT);
        return rtt ? out.integer(*rtt / 8) : out.null();
      }
      case EXPIRES_MS: return out.integer(route_.expires_ms());
      case NEXTHOP_WEIGHT: return out.integer(nexthop().weight);
      case TOS: return out.integer(h.rtm_tos);
      default: return out.null();
    }
  }

  kernel::RouteMessage route_;
  size_t at_ = 0;  // the current nexthop of route_
  std::optional<kernel::Nexthop> nexthop_;
  std::optional<std::vector<kernel::HostAddr>> destinations_;  // pushed destination values
  std::optional<std::bitset<129>> prefix_lens_;                // pushed prefix lengths
  kernel::RouteTables tables_;                                 // rt_tables, read when a table_name needs it
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
