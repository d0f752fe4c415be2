// rtnetlink: requests for links, routes, addresses and neighbours, and
// views that decode one reply in place (the header at once, attributes
// indexed, text only when asked for), so that a table scan streams
// straight from the receive buffer. Part of the kernel layer: no SQLite.
#pragma once

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernel/netlink.h"
#include "kernel/netns.h"

namespace netsql::kernel {

// An rtnetlink socket in namespace `ns`, with strict checking on, so that
// the kernel honours the filters we put in dump requests (table, family).
NetlinkSocket rtnl_socket(const Netns& ns);

// Canonical text of an address of `family` held in `b`; "" when `b` is not
// of the family's length.
std::string address_text_of(int family, Bytes b);

// ---- links ----

// All links (index 0 and no name), or the one with this index or name
// (a plain request: the reply is one link, or an error ENODEV); without
// `stats`, the kernel leaves the counters out.
Request link_request(int index = 0, const std::string& name = {}, bool stats = true);

class LinkMessage {
 public:
  // False for a message of another type or too short for its header.
  bool parse(const nlmsghdr* m);
  const ifinfomsg& header() const { return h_; }
  std::string_view name() const { return a_.str(IFLA_IFNAME).value_or(""); }
  std::string_view qdisc() const { return a_.str(IFLA_QDISC).value_or(""); }
  // IFLA_LINKINFO's kind, else loopback or ether by flags and type; "" when none.
  std::string kind() const;
  std::string mac() const;            // "" when the link has none
  std::string broadcast_mac() const;  // "" when none
  uint8_t operstate() const { return a_.get<uint8_t>(IFLA_OPERSTATE).value_or(0); }
  std::optional<uint32_t> mtu() const { return a_.get<uint32_t>(IFLA_MTU); }
  std::optional<uint32_t> txqlen() const { return a_.get<uint32_t>(IFLA_TXQLEN); }
  std::optional<uint32_t> carrier_changes() const { return a_.get<uint32_t>(IFLA_CARRIER_CHANGES); }
  int master() const { return static_cast<int>(a_.get<uint32_t>(IFLA_MASTER).value_or(0)); }
  std::optional<rtnl_link_stats64> stats() const { return a_.get<rtnl_link_stats64>(IFLA_STATS64); }

 private:
  ifinfomsg h_{};
  AttrTable<IFLA_MAX + 1> a_;
};

// Interface names by index, for one statement: filled as indexes come up,
// by one RTM_GETLINK per unknown index, or by one link dump (names only)
// once more than kSingleLookups were unknown. Bounded by the number of
// links, whatever the number of rows asking. The socket it needs is opened
// in the namespace on first use.
class LinkNameCache {
 public:
  static constexpr int kSingleLookups = 16;
  explicit LinkNameCache(const Netns& ns) : ns_(&ns) {}
  // "" for index 0 (no link); the number as text for a link that is gone.
  const std::string& name(int index);
  // The index of the link named `name`; nullopt when there is none.
  std::optional<int> index(const std::string& name);
  // Its rtnetlink socket (of the namespace, strict checking on), which a
  // caller's own requests may share: each request reads its answer to the
  // end before the next is sent.
  NetlinkSocket& socket();

 private:
  void fill();  // every link's name, from one dump
  const Netns* ns_;
  std::optional<NetlinkSocket> sock_;
  std::unordered_map<int, std::string> names_;
  int lookups_ = 0;
  bool complete_ = false;
};


// ---- routes ----

// The routes of `family`, of every table or of `table` (0: all); the
// kernel also filters by protocol and type when they are not 0.
Request route_dump_request(uint8_t family, uint32_t table = 0, uint8_t protocol = 0, uint8_t type = 0);

// One nexthop of a route: the route's own gateway and device, or one
// entry of RTA_MULTIPATH.
struct Nexthop {
  int oif = 0;
  std::optional<int> weight;  // multipath only
  unsigned flags = 0;         // RTNH_F_*
  int gateway_family = 0;     // RTA_VIA may be of the other family
  Bytes gateway;              // empty when none
  std::string gateway_text() const {
    return gateway.empty() ? std::string() : address_text_of(gateway_family, gateway);
  }
};

class RouteMessage {
 public:
  // The header and RTA_DST (empty span without data for the default route)
  // of a route message, the rest left undecoded: enough to skip a route a
  // query does not want. False for a message of another type.
  static bool peek(const nlmsghdr* m, rtmsg& header, Bytes& destination);
  bool parse(const nlmsghdr* m);
  const rtmsg& header() const { return h_; }
  uint8_t family() const { return h_.rtm_family; }
  uint32_t table() const { return a_.get<uint32_t>(RTA_TABLE).value_or(h_.rtm_table); }
  // Canonical text; 0.0.0.0 or :: for the default route.
  std::string destination() const;
  std::string source() const { return address_text_of(family(), a_.raw(RTA_SRC)); }
  std::string prefsrc() const { return address_text_of(family(), a_.raw(RTA_PREFSRC)); }
  std::optional<uint32_t> priority() const { return a_.get<uint32_t>(RTA_PRIORITY); }
  std::optional<uint32_t> mark() const { return a_.get<uint32_t>(RTA_MARK); }
  std::optional<uint32_t> uid() const { return a_.get<uint32_t>(RTA_UID); }
  // A metric (RTAX_MTU, RTAX_WINDOW, RTAX_RTT, RTAX_ADVMSS ...) from RTA_METRICS.
  std::optional<uint32_t> metric(int rtax) const;
  // Milliseconds until the route expires (RTA_CACHEINFO); nullopt if never.
  std::optional<int64_t> expires_ms() const;
  // One row per nexthop: at least one (the route's own, possibly empty).
  size_t nexthop_count() const { return nexthops_; }
  Nexthop nexthop(size_t i) const;

 private:
  rtmsg h_{};
  AttrTable<RTA_MAX + 1> a_;
  size_t nexthops_ = 1;
  bool multipath_ = false;  // nexthops come from RTA_MULTIPATH
};

// What a route lookup (ip route get) asks: the packet's destination and,
// optionally, its source, input or output interface, mark and uid.
struct RouteLookup {
  uint8_t family = 0;  // AF_INET or AF_INET6: the destination's
  uint8_t destination[16] = {};
  std::optional<std::array<uint8_t, 16>> source;  // of the same family
  int iif = 0, oif = 0;
  std::optional<uint32_t> mark, uid;
  bool fibmatch = false;  // answer with the matching FIB entry
};

// Runs the lookup. Returns 0 with the kernel's RTM_NEWROUTE answer copied
// into `reply`, or the errno of a refusal the kernel gave without an
// explanation: the lookup's own answer, as ip route get prints it (no
// route: ENETUNREACH; blackhole: EINVAL; unreachable: EHOSTUNREACH;
// prohibit: EACCES). A refusal the kernel explains (a malformed request)
// and a socket failure throw NetlinkError.
int route_get(NetlinkSocket& rtnl, const RouteLookup& lookup, std::vector<uint8_t>& reply);

// ---- addresses ----

Request address_dump_request(uint8_t family);

class AddressMessage {
 public:
  bool parse(const nlmsghdr* m);
  const ifaddrmsg& header() const { return h_; }
  uint8_t family() const { return h_.ifa_family; }
  int index() const { return static_cast<int>(h_.ifa_index); }
  uint32_t flags() const { return a_.get<uint32_t>(IFA_FLAGS).value_or(h_.ifa_flags); }
  // Ours: IFA_LOCAL when present, else IFA_ADDRESS.
  std::string address() const;
  // The other end of a point-to-point address: IFA_ADDRESS when it differs from IFA_LOCAL; "" when none.
  std::string peer() const;
  std::string broadcast() const { return address_text_of(family(), a_.raw(IFA_BROADCAST)); }
  std::string_view label() const { return a_.str(IFA_LABEL).value_or(""); }
  // Lifetimes in seconds; nullopt for forever.
  std::optional<uint32_t> valid_s() const;
  std::optional<uint32_t> preferred_s() const;

 private:
  ifaddrmsg h_{};
  AttrTable<IFA_MAX + 1> a_;
};

// ---- neighbours ----

Request neighbor_dump_request(uint8_t family);

class NeighborMessage {
 public:
  bool parse(const nlmsghdr* m);
  const ndmsg& header() const { return h_; }
  uint8_t family() const { return h_.ndm_family; }
  // True when NDA_DST is an address of the message's family.
  bool has_address() const;
  std::string address() const { return address_text_of(family(), a_.raw(NDA_DST)); }
  std::string mac() const;  // "" when the entry has none

 private:
  ndmsg h_{};
  AttrTable<NDA_MAX + 1> a_;
};

}  // namespace netsql::kernel
