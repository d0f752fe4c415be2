// route_get: the route a packet to `destination` would take, as the kernel
// answers RTM_GETROUTE (what ip route get prints): one row per
// destination. The lookup's arguments are hidden columns, given as
// constraints or as table arguments in order: route_get('8.8.8.8'),
// route_get('10.1.2.3', '10.0.0.5'). Joinable:
//   SELECT t.remote_address, r.interface FROM tcp_sockets t
//   JOIN route_get r ON r.destination = t.remote_address
#include <linux/rtnetlink.h>

#include <fmt/format.h>

#include <cstring>

#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"
#include "vtabs/filters.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  FAMILY, TYPE, PREFIX, PREFIX_LEN, GATEWAY, INTERFACE, PREFERRED_SOURCE, TABLE_ID, TABLE_NAME, METRIC, PROTOCOL,
  SCOPE, MTU, EXPIRES_MS, ERROR,
  DESTINATION, SOURCE, IIF, OIF, MARK, UID, FIBMATCH, kCount
};

constexpr std::string_view kArgument = "an argument of the lookup";

constexpr std::array<Column, kCount> kColumns{{
    {"family", Type::Text, "'inet' or 'inet6': the destination's"},
    {"type", Type::Text, "unicast, local, broadcast, multicast, ...; NULL when the kernel refused the lookup"},
    {"prefix", Type::Text, "with fibmatch = 1, the destination prefix of the matching route (as ip route get fibmatch "
                           "shows it); else the destination address itself"},
    {"prefix_len", Type::Integer, "length of prefix: the route's with fibmatch = 1, else 32 or 128"},
    {"gateway", Type::Text, "next-hop gateway; NULL when the destination is on link"},
    {"interface", Type::Text, "output interface"},
    {"preferred_source", Type::Text, "source address the kernel would pick (RTA_PREFSRC); NULL when none"},
    {"table_id", Type::Integer, "routing table that answered (after the policy rules); 0 when none did (an oif with "
                                "no route)"},
    {"table_name", Type::Text, "main, local, default, a name from rt_tables, or the number as text"},
    {"metric", Type::Integer, "route priority (IPv6, and with fibmatch = 1); NULL when the answer has none"},
    {"protocol", Type::Text, "who installed the route (IPv6, and with fibmatch = 1); unspec for an IPv4 lookup"},
    {"scope", Type::Text, "global, link, host, ..."},
    {"mtu", Type::Integer, "path MTU the kernel learnt for this destination (RTAX_MTU); NULL when none"},
    {"expires_ms", Type::Integer, "milliseconds until that learnt state expires; NULL when it does not"},
    {"error", Type::Text, "NULL when the kernel found a route; else its refusal as ip route get prints it: 'Network "
                          "is unreachable' (no route), 'Invalid argument' (blackhole), 'No route to host' "
                          "(unreachable), 'Permission denied' (prohibit); the route columns are then NULL"},
    key({"destination", Type::Text, "the address to look up (required; IN looks up each); echoes it",
         kPushIn | kRequired, 0.001, kArgument, Role::Data, true}),
    key({"source", Type::Text, "source address of the packet (RTA_SRC), of the destination's family; NULL: the kernel "
                               "picks", kPushEq, 1.0, kArgument, Role::Data, true}),
    key({"iif", Type::Text, "input interface, name or index: look up a packet arriving there (forwarding), as ip route "
                            "get ... iif", kPushEq, 1.0, kArgument, Role::Data, true}),
    key({"oif", Type::Text, "output interface, name or index, to force", kPushEq, 1.0, kArgument, Role::Data, true}),
    key({"mark", Type::Integer, "firewall mark of the packet, 0 to 4294967295 (for fwmark rules)", kPushEq, 1.0,
         kArgument, Role::Data, true}),
    key({"uid", Type::Integer, "user id of the sending socket, 0 to 4294967295 (for uidrange rules)", kPushEq, 1.0,
         kArgument, Role::Data, true}),
    key({"fibmatch", Type::Integer, "1: answer with the matching FIB entry (its prefix, metric, protocol) rather than "
                                    "the packet's route", kPushEq, 1.0, kArgument, Role::Data, true}),
}};

// A constraint value echoed back by its hidden column; NULL when not given.
void echo(const Value& v, Cell& out) {
  if (v.kind == Value::Kind::Integer) out.integer(v.i);
  else if (v.kind == Value::Kind::Text) out.text(v.s);
  else if (v.kind == Value::Kind::Real) out.real(v.r);
  else out.null();
}

// A value as an error message quotes it.
std::string value_text(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Text: return "'" + v.s + "'";
    case Value::Kind::Integer: return std::to_string(v.i);
    case Value::Kind::Real: return fmt::format("{}", v.r);
    case Value::Kind::Blob: return "(a blob)";
    default: return "NULL";
  }
}

uint32_t u32_argument(const Value& v, std::string_view name) {
  auto i = v.as_integer();
  if (!i || *i < 0 || *i > UINT32_MAX) throw Error(std::string(name) + " must be an integer from 0 to 4294967295");
  return static_cast<uint32_t>(*i);
}

class RouteGetCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    // The socket and the interface names are kept from one lookup to the
    // next (a join looks up once per outer row) while the namespace is the
    // caller's. Lookups and interface names share the one socket.
    if (!q.netns->is_caller() || !callers_) links_.emplace(*q.netns);
    callers_ = q.netns->is_caller();
    destinations_.clear();
    at_ = 0;
    args_.fill(Value{});
    for (int col = DESTINATION + 1; col < kCount; ++col)
      if (const auto* v = q.values(col); v && !v->empty()) {
        if (v->front().kind == Value::Kind::Null) return;  // equals nothing: no rows
        args_[col - DESTINATION] = v->front();
      }

    lookup_ = {};
    if (const Value& v = args_[SOURCE - DESTINATION]; v.kind != Value::Kind::Null) {
      auto h = address_argument(v, "source");
      lookup_.source.emplace();
      std::copy(std::begin(h.bytes), std::end(h.bytes), lookup_.source->begin());
      source_family_ = h.family;
    }
    for (auto [col, into] : {std::pair{IIF, &lookup_.iif}, std::pair{OIF, &lookup_.oif}})
      if (const Value& v = args_[col - DESTINATION]; v.kind != Value::Kind::Null)
        *into = interface_argument(v, kColumns[col].name);
    if (const Value& v = args_[MARK - DESTINATION]; v.kind != Value::Kind::Null) lookup_.mark = u32_argument(v, "mark");
    if (const Value& v = args_[UID - DESTINATION]; v.kind != Value::Kind::Null) lookup_.uid = u32_argument(v, "uid");
    if (const Value& v = args_[FIBMATCH - DESTINATION]; v.kind != Value::Kind::Null) {
      auto f = v.as_integer();
      if (!f || (*f != 0 && *f != 1)) throw Error("fibmatch must be 0 or 1");
      lookup_.fibmatch = *f == 1;
    }
    if (const auto* v = q.values(DESTINATION)) destinations_ = *v;
    look_up();
  }

  bool eof() const override { return at_ >= destinations_.size(); }

  void next() override {
    ++at_;
    look_up();
  }

  void column(int col, Cell& out) override {
    if (col == DESTINATION) return echo(destinations_[at_], out);
    if (col > DESTINATION) return echo(args_[col - DESTINATION], out);
    if (col == FAMILY) return out.text(family_name(lookup_.family));
    if (col == ERROR) return error_ ? out.text(std::strerror(error_)) : out.null();
    if (error_) return out.null();
    const rtmsg& h = route_.header();
    switch (col) {
      case TYPE: return out.text(kernel::route_type_name(h.rtm_type));
      case PREFIX: return out.text(route_.destination());
      case PREFIX_LEN: return out.integer(h.rtm_dst_len);
      case GATEWAY: return out.text_or_null(route_.nexthop(0).gateway_text());
      case INTERFACE: return out.text_or_null(links_->name(route_.nexthop(0).oif));
      case PREFERRED_SOURCE: return out.text_or_null(route_.prefsrc());
      case TABLE_ID: return out.integer(route_.table());
      case TABLE_NAME:
        return out.text(tables_.name(route_.table()));
      case METRIC: return out.integer(route_.priority());
      case PROTOCOL: return out.text(kernel::route_protocol_name(h.rtm_protocol));
      case SCOPE: return out.text(kernel::route_scope_name(h.rtm_scope));
      case MTU: return out.integer(route_.metric(RTAX_MTU));
      case EXPIRES_MS: return out.integer(route_.expires_ms());
      default: return out.null();
    }
  }

 private:
  static kernel::HostAddr address_argument(const Value& v, std::string_view name) {
    const std::string* t = v.as_text();
    auto h = t ? kernel::parse_host(*t) : std::nullopt;
    if (!h) throw Error("invalid " + std::string(name) + " " + value_text(v) + " (expected an IPv4 or IPv6 address)");
    return *h;
  }

  int interface_argument(const Value& v, std::string_view name) {
    if (const std::string* t = v.as_text(); t && !v.as_integer()) {
      auto index = links_->index(*t);
      if (!index) throw Error("no such interface '" + *t + "' for " + std::string(name));
      return *index;
    }
    auto i = v.as_integer();
    if (!i || *i <= 0 || *i > INT32_MAX) throw Error(std::string(name) + " must be an interface name or index");
    return static_cast<int>(*i);
  }

  // Looks up the destination of row at_ (if there is one).
  void look_up() {
    for (; at_ < destinations_.size(); ++at_) {
      const Value& v = destinations_[at_];
      if (v.kind == Value::Kind::Null) continue;  // equals nothing
      kernel::HostAddr h = address_argument(v, "destination");
      if (lookup_.source && source_family_ != h.family)
        throw Error("source " + args_[SOURCE - DESTINATION].s + " and destination " + v.s +
                    " are of different families");
      lookup_.family = h.family;
      std::copy(std::begin(h.bytes), std::end(h.bytes), lookup_.destination);
      error_ = kernel::route_get(links_->socket(), lookup_, reply_);
      if (!error_ && !route_.parse(reinterpret_cast<const nlmsghdr*>(reply_.data())))
        throw Error("the kernel answered with something other than a route");
      return;
    }
  }

  std::optional<kernel::LinkNameCache> links_;  // and its socket, for the lookups too
  bool callers_ = false;                        // links_ is of the caller's namespace
  kernel::RouteTables tables_;                  // rt_tables, read when a table_name needs it
  std::array<Value, kCount - DESTINATION> args_;  // the hidden arguments as given, echoed
  std::vector<Value> destinations_;
  size_t at_ = 0;
  kernel::RouteLookup lookup_;
  uint8_t source_family_ = 0;
  int error_ = 0;
  std::vector<uint8_t> reply_;
  kernel::RouteMessage route_;
};

}  // namespace

const TableDef kRouteGet{
    "route_get",
    "The route the kernel would pick for a packet to `destination` (RTM_GETROUTE, as ip route get): one row per "
    "destination.",
    kColumns,
    1,
    [] { return std::unique_ptr<Cursor>(new RouteGetCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
