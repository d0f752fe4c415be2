#include "kernel/rtnl.h"

#include <linux/if.h>
#include <linux/if_arp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"

namespace netsql::kernel {

namespace {

size_t address_length(int family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

template <class Header>
bool header_into(const nlmsghdr* m, uint16_t type, Header& h) {
  if (m->nlmsg_type != type || m->nlmsg_len < NLMSG_LENGTH(sizeof(Header))) return false;
  std::memcpy(&h, NLMSG_DATA(m), sizeof h);
  return true;
}

}  // namespace

NetlinkSocket rtnl_socket(const Netns& ns) {
  NetlinkSocket s = ns.netlink(NETLINK_ROUTE);
  int one = 1;
  ::setsockopt(s.fd(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  return s;
}

std::string address_text_of(int family, Bytes b) {
  size_t want = address_length(family);
  if (!want || b.size() != want) return {};
  return address_text(family, b.data());
}

// ---- links ----

Request link_request(int index, const std::string& name, bool stats) {
  bool one = index != 0 || !name.empty();
  Request req(RTM_GETLINK, NLM_F_REQUEST | (one ? 0 : NLM_F_DUMP));
  ifinfomsg ifi{};
  ifi.ifi_index = index;
  req.append(ifi);
  if (!name.empty()) req.add_attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  if (!stats) {
    uint32_t mask = RTEXT_FILTER_SKIP_STATS;
    req.add_attr(IFLA_EXT_MASK, &mask, sizeof mask);
  }
  return req;
}

bool LinkMessage::parse(const nlmsghdr* m) {
  if (!header_into(m, RTM_NEWLINK, h_)) return false;
  a_.parse(payload_after(m, sizeof(ifinfomsg)));
  return true;
}

std::string LinkMessage::kind() const {
  if (a_.has(IFLA_LINKINFO)) {
    AttrTable<IFLA_INFO_MAX + 1> info(a_.raw(IFLA_LINKINFO));
    if (auto k = info.str(IFLA_INFO_KIND); k && !k->empty()) return std::string(*k);
  }
  if (h_.ifi_flags & IFF_LOOPBACK) return "loopback";
  return h_.ifi_type == ARPHRD_ETHER ? "ether" : "";
}

std::string LinkMessage::mac() const {
  Bytes b = a_.raw(IFLA_ADDRESS);
  return b.data() ? mac_text(b.data(), b.size()) : std::string();
}

std::string LinkMessage::broadcast_mac() const {
  Bytes b = a_.raw(IFLA_BROADCAST);
  return b.data() ? mac_text(b.data(), b.size()) : std::string();
}

NetlinkSocket& LinkNameCache::socket() {
  if (!sock_) sock_.emplace(rtnl_socket(*ns_));
  return *sock_;
}

const std::string& LinkNameCache::name(int index) {
  static const std::string kNone;
  if (index == 0) return kNone;
  auto it = names_.find(index);
  if (it != names_.end()) return it->second;
  if (!complete_ && ++lookups_ > kSingleLookups) {
    fill();
  } else if (!complete_) {
    Request req = link_request(index, {}, /*stats*/ false);
    try {
      Dump d(socket(), req);
      LinkMessage link;
      while (const nlmsghdr* m = d.next())
        if (link.parse(m) && link.header().ifi_index == index) names_.insert_or_assign(index, std::string(link.name()));
    } catch (const Refusal& e) {
      if (e.error() != ENODEV) throw;  // else: gone
    }
  }
  it = names_.find(index);
  if (it == names_.end()) it = names_.emplace(index, std::to_string(index)).first;
  return it->second;
}

void LinkNameCache::fill() {
  Request req = link_request(0, {}, /*stats*/ false);
  LinkMessage link;
  dump_consistent(
      socket(), req,
      [&](const nlmsghdr* m) {
        if (link.parse(m)) names_.insert_or_assign(link.header().ifi_index, std::string(link.name()));
      },
      [&] { names_.clear(); });
  complete_ = true;
}

std::optional<int> LinkNameCache::index(const std::string& name) {
  for (const auto& [i, n] : names_)
    if (n == name) return i;
  if (name.empty() || name.size() >= IFNAMSIZ) return std::nullopt;
  Request req = link_request(0, name, /*stats*/ false);
  std::optional<int> found;
  try {
    Dump d(socket(), req);
    LinkMessage link;
    while (const nlmsghdr* m = d.next())
      if (link.parse(m) && link.name() == name) found = link.header().ifi_index;
  } catch (const Refusal& e) {
    if (e.error() != ENODEV) throw;
  }
  if (found) names_.insert_or_assign(*found, name);
  return found;
}

// ---- routes ----

Request route_dump_request(uint8_t family, uint32_t table, uint8_t protocol, uint8_t type) {
  Request req(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = family;
  rt.rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
  rt.rtm_protocol = protocol;
  rt.rtm_type = type;
  req.append(rt);
  if (table) req.add_attr(RTA_TABLE, &table, sizeof table);
  return req;
}

namespace {

// Calls f(entry, its attributes) for each well-formed entry of an
// RTA_MULTIPATH payload until f returns false; a malformed entry ends the
// walk (nothing past the payload is read).
template <class F>
void walk_multipath(Bytes mp, F&& f) {
  while (mp.size() >= sizeof(rtnexthop)) {
    rtnexthop nh;
    std::memcpy(&nh, mp.data(), sizeof nh);
    if (nh.rtnh_len < sizeof nh || nh.rtnh_len > mp.size()) return;
    if (!f(nh, mp.subspan(sizeof nh, nh.rtnh_len - sizeof nh))) return;
    size_t step = RTNH_ALIGN(nh.rtnh_len);
    mp = step >= mp.size() ? Bytes{} : mp.subspan(step);
  }
}

// The gateway of a nexthop: RTA_GATEWAY, or RTA_VIA (which may be of the
// other family: an IPv4 route via an IPv6 gateway). Left empty unless it
// has its family's length.
template <size_t N>
void gateway_into(const AttrTable<N>& a, int family, Nexthop& nh) {
  Bytes gw = a.raw(RTA_GATEWAY);
  if (a.has(RTA_GATEWAY)) {
    nh.gateway_family = family;
  } else {
    Bytes via = a.raw(RTA_VIA);
    if (via.size() < 2) return;
    uint16_t fam;
    std::memcpy(&fam, via.data(), 2);
    nh.gateway_family = fam;
    gw = via.subspan(2);
  }
  if (gw.size() == address_length(nh.gateway_family) && !gw.empty()) nh.gateway = gw;
}

}  // namespace

bool RouteMessage::peek(const nlmsghdr* m, rtmsg& header, Bytes& destination) {
  if (!header_into(m, RTM_NEWROUTE, header)) return false;
  destination = {};
  AttrWalker w(payload_after(m, sizeof(rtmsg)));
  while (auto a = w.next())
    if (a->type == RTA_DST) destination = a->data;  // later duplicates win, as in AttrTable
  return true;
}

bool RouteMessage::parse(const nlmsghdr* m) {
  if (!header_into(m, RTM_NEWROUTE, h_)) return false;
  a_.parse(payload_after(m, sizeof(rtmsg)));
  size_t n = 0;
  walk_multipath(a_.raw(RTA_MULTIPATH), [&](const rtnexthop&, Bytes) { return ++n, true; });
  nexthops_ = n ? n : 1;
  multipath_ = n != 0;
  return true;
}

std::string RouteMessage::destination() const {
  if (a_.has(RTA_DST)) return address_text_of(family(), a_.raw(RTA_DST));
  return family() == AF_INET6 ? "::" : "0.0.0.0";
}

std::optional<uint32_t> RouteMessage::metric(int rtax) const {
  if (!a_.has(RTA_METRICS)) return std::nullopt;
  AttrTable<RTAX_MAX + 1> mx(a_.raw(RTA_METRICS));
  return mx.get<uint32_t>(static_cast<size_t>(rtax));
}

std::optional<int64_t> RouteMessage::expires_ms() const {
  auto ci = a_.get<rta_cacheinfo>(RTA_CACHEINFO);
  if (!ci || !ci->rta_expires) return std::nullopt;
  long hz = sysconf(_SC_CLK_TCK);
  return static_cast<int64_t>(static_cast<int32_t>(ci->rta_expires)) * 1000 / (hz > 0 ? hz : 100);
}

Nexthop RouteMessage::nexthop(size_t i) const {
  Nexthop out;
  if (!multipath_) {
    out.oif = static_cast<int>(a_.get<uint32_t>(RTA_OIF).value_or(0));
    gateway_into(a_, family(), out);
    return out;
  }
  size_t at = 0;
  walk_multipath(a_.raw(RTA_MULTIPATH), [&](const rtnexthop& nh, Bytes attrs) {
    if (at++ != i) return true;
    out.oif = nh.rtnh_ifindex;
    out.weight = nh.rtnh_hops + 1;
    out.flags = nh.rtnh_flags;
    gateway_into(AttrTable<RTA_MAX + 1>(attrs), family(), out);
    return false;
  });
  return out;
}

int route_get(NetlinkSocket& rtnl, const RouteLookup& l, std::vector<uint8_t>& reply) {
  size_t len = address_length(l.family);
  if (!len) throw NetlinkError(EAFNOSUPPORT, "route lookup: not an IPv4 or IPv6 destination");
  Request req(RTM_GETROUTE, NLM_F_REQUEST);  // one answer: the route or a refusal
  rtmsg rt{};
  rt.rtm_family = l.family;
  rt.rtm_dst_len = static_cast<uint8_t>(len * 8);
  if (l.source) rt.rtm_src_len = static_cast<uint8_t>(len * 8);
  // IPv4 names the table that answered only when asked to (IPv6 always
  // does, and refuses the flag under strict checking).
  if (l.family == AF_INET) rt.rtm_flags |= RTM_F_LOOKUP_TABLE;
  if (l.fibmatch) rt.rtm_flags |= RTM_F_FIB_MATCH;
  req.append(rt);
  req.add_attr(RTA_DST, l.destination, len);
  if (l.source) req.add_attr(RTA_SRC, l.source->data(), len);
  auto u32 = [&](uint16_t type, uint32_t v) { req.add_attr(type, &v, sizeof v); };
  if (l.iif) u32(RTA_IIF, static_cast<uint32_t>(l.iif));
  if (l.oif) u32(RTA_OIF, static_cast<uint32_t>(l.oif));
  if (l.mark) u32(RTA_MARK, *l.mark);
  if (l.uid) u32(RTA_UID, *l.uid);
  reply.clear();
  try {
    Dump d(rtnl, req);
    while (const nlmsghdr* m = d.next()) {
      if (!reply.empty() || m->nlmsg_type != RTM_NEWROUTE) continue;
      const auto* b = reinterpret_cast<const uint8_t*>(m);
      reply.assign(b, b + m->nlmsg_len);
    }
  } catch (const Refusal& e) {
    if (!e.explanation().empty()) throw;  // the request, not the route
    return e.error();
  }
  if (reply.empty()) throw NetlinkError(EIO, "route lookup: the kernel sent no route");
  return 0;
}

// ---- addresses ----

Request address_dump_request(uint8_t family) {
  Request req(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  req.append(ifa);
  return req;
}

bool AddressMessage::parse(const nlmsghdr* m) {
  if (!header_into(m, RTM_NEWADDR, h_)) return false;
  a_.parse(payload_after(m, sizeof(ifaddrmsg)));
  return true;
}

std::string AddressMessage::address() const {
  std::string local = address_text_of(family(), a_.raw(IFA_LOCAL));
  return !local.empty() ? local : address_text_of(family(), a_.raw(IFA_ADDRESS));
}

std::string AddressMessage::peer() const {
  std::string local = address_text_of(family(), a_.raw(IFA_LOCAL));
  if (local.empty()) return {};
  std::string addr = address_text_of(family(), a_.raw(IFA_ADDRESS));
  return addr != local ? addr : std::string();
}

std::optional<uint32_t> AddressMessage::valid_s() const {
  auto ci = a_.get<ifa_cacheinfo>(IFA_CACHEINFO);
  if (!ci || ci->ifa_valid == 0xFFFFFFFFu) return std::nullopt;
  return ci->ifa_valid;
}

std::optional<uint32_t> AddressMessage::preferred_s() const {
  auto ci = a_.get<ifa_cacheinfo>(IFA_CACHEINFO);
  if (!ci || ci->ifa_prefered == 0xFFFFFFFFu) return std::nullopt;
  return ci->ifa_prefered;
}

// ---- neighbours ----

Request neighbor_dump_request(uint8_t family) {
  Request req(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
  ndmsg nd{};
  nd.ndm_family = family;
  req.append(nd);
  return req;
}

bool NeighborMessage::parse(const nlmsghdr* m) {
  if (!header_into(m, RTM_NEWNEIGH, h_)) return false;
  a_.parse(payload_after(m, sizeof(ndmsg)));
  return true;
}

bool NeighborMessage::has_address() const {
  size_t want = address_length(family());
  return want && a_.raw(NDA_DST).size() == want;
}

std::string NeighborMessage::mac() const {
  Bytes ll = a_.raw(NDA_LLADDR);
  return ll.empty() ? std::string() : mac_text(ll.data(), ll.size());
}

}  // namespace netsql::kernel
