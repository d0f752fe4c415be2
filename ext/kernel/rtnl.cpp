#include "kernel/rtnl.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"

namespace netsql::kernel {

namespace {

// Address text if the payload has the family's length, else "".
std::string addr_text(int family, Bytes b) {
  size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
  if (!want || b.size() != want) return {};
  return address_text(family, b.data());
}

template <class Header>
std::optional<Header> header_of(const nlmsghdr* m, uint16_t type) {
  if (m->nlmsg_type != type || m->nlmsg_len < NLMSG_LENGTH(sizeof(Header))) return std::nullopt;
  Header h;
  std::memcpy(&h, NLMSG_DATA(m), sizeof h);
  return h;
}

template <class T, class Parse>
std::vector<T> collect(NetlinkSocket& rtnl, Request& req, Parse parse) {
  std::vector<T> out;
  dump_consistent(
      rtnl, req,
      [&](const nlmsghdr* m) {
        if (auto v = parse(m)) out.push_back(std::move(*v));
      },
      [&] { out.clear(); });
  return out;
}

}  // namespace

NetlinkSocket rtnl_socket(const Netns& ns) {
  NetlinkSocket s = ns.netlink(NETLINK_ROUTE);
  int one = 1;
  ::setsockopt(s.fd(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  return s;
}

std::optional<Link> parse_link(const nlmsghdr* m) {
  auto h = header_of<ifinfomsg>(m, RTM_NEWLINK);
  if (!h) return std::nullopt;
  AttrTable<IFLA_MAX + 1> a(payload_after(m, sizeof(ifinfomsg)));
  Link l;
  l.index = h->ifi_index;
  l.flags = h->ifi_flags;
  l.type = h->ifi_type;
  if (auto s = a.str(IFLA_IFNAME)) l.name = *s;
  if (auto s = a.str(IFLA_QDISC)) l.qdisc = *s;
  Bytes mac = a.raw(IFLA_ADDRESS), brd = a.raw(IFLA_BROADCAST);
  if (mac.data()) l.mac = mac_text(mac.data(), mac.size());
  if (brd.data()) l.broadcast_mac = mac_text(brd.data(), brd.size());
  l.operstate = a.get<uint8_t>(IFLA_OPERSTATE).value_or(0);
  l.mtu = a.get<uint32_t>(IFLA_MTU);
  l.txqlen = a.get<uint32_t>(IFLA_TXQLEN);
  l.carrier_changes = a.get<uint32_t>(IFLA_CARRIER_CHANGES);
  l.master = static_cast<int>(a.get<uint32_t>(IFLA_MASTER).value_or(0));
  l.stats = a.get<rtnl_link_stats64>(IFLA_STATS64);
  if (a.has(IFLA_LINKINFO)) {
    AttrTable<IFLA_INFO_MAX + 1> info(a.raw(IFLA_LINKINFO));
    if (auto k = info.str(IFLA_INFO_KIND)) l.kind = *k;
  }
  if (l.kind.empty()) l.kind = (l.flags & IFF_LOOPBACK) ? "loopback" : l.type == 1 /* ARPHRD_ETHER */ ? "ether" : "";
  return l;
}

std::vector<Link> dump_links(NetlinkSocket& rtnl, int index, const std::string& name) {
  bool one = index != 0 || !name.empty();
  Request req(RTM_GETLINK, NLM_F_REQUEST | (one ? NLM_F_ACK : NLM_F_DUMP));
  ifinfomsg ifi{};
  ifi.ifi_index = index;
  req.append(ifi);
  if (!name.empty()) req.add_attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  try {
    return collect<Link>(rtnl, req, parse_link);
  } catch (const NetlinkError& e) {
    if (one && (e.error() == ENODEV || e.error() == EINVAL)) return {};  // no such link
    throw;
  }
}

std::string link_name(const LinkNames& names, int index) {
  if (index == 0) return {};
  auto it = names.find(static_cast<uint32_t>(index));
  return it != names.end() ? it->second : std::to_string(index);
}

LinkNames link_names(NetlinkSocket& rtnl) {
  LinkNames names;
  Request req(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  ifinfomsg ifi{};
  req.append(ifi);
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  req.add_attr(IFLA_EXT_MASK, &mask, sizeof mask);
  dump_consistent(
      rtnl, req,
      [&](const nlmsghdr* m) {
        auto h = header_of<ifinfomsg>(m, RTM_NEWLINK);
        if (!h) return;
        AttrTable<IFLA_IFNAME + 1> attrs(payload_after(m, sizeof(ifinfomsg)));
        if (auto name = attrs.str(IFLA_IFNAME)) names[static_cast<uint32_t>(h->ifi_index)] = std::string(*name);
      },
      [&] { names.clear(); });
  return names;
}

namespace {

// The gateway of a nexthop: RTA_GATEWAY, or RTA_VIA (which may be of the
// other family: an IPv4 route via an IPv6 gateway).
template <size_t N>
std::string gateway_of(const AttrTable<N>& a, int family) {
  if (a.has(RTA_GATEWAY)) return addr_text(family, a.raw(RTA_GATEWAY));
  Bytes via = a.raw(RTA_VIA);
  if (via.size() >= 2) {
    uint16_t fam;
    std::memcpy(&fam, via.data(), 2);
    return addr_text(fam, via.subspan(2));
  }
  return {};
}

}  // namespace

std::optional<Route> parse_route(const nlmsghdr* m) {
  auto h = header_of<rtmsg>(m, RTM_NEWROUTE);
  if (!h) return std::nullopt;
  AttrTable<RTA_MAX + 1> a(payload_after(m, sizeof(rtmsg)));
  Route r;
  r.family = h->rtm_family;
  r.dst_len = h->rtm_dst_len;
  r.src_len = h->rtm_src_len;
  r.tos = h->rtm_tos;
  r.protocol = h->rtm_protocol;
  r.scope = h->rtm_scope;
  r.type = h->rtm_type;
  r.flags = h->rtm_flags;
  r.table = a.get<uint32_t>(RTA_TABLE).value_or(h->rtm_table);
  r.destination = a.has(RTA_DST) ? addr_text(r.family, a.raw(RTA_DST)) : (r.family == AF_INET6 ? "::" : "0.0.0.0");
  if (a.has(RTA_SRC)) r.source = addr_text(r.family, a.raw(RTA_SRC));
  if (a.has(RTA_PREFSRC)) r.prefsrc = addr_text(r.family, a.raw(RTA_PREFSRC));
  r.priority = a.get<uint32_t>(RTA_PRIORITY);
  if (a.has(RTA_METRICS)) {
    AttrTable<RTAX_MAX + 1> mx(a.raw(RTA_METRICS));
    r.mtu = mx.get<uint32_t>(RTAX_MTU);
    r.window = mx.get<uint32_t>(RTAX_WINDOW);
    r.rtt = mx.get<uint32_t>(RTAX_RTT);
    r.advmss = mx.get<uint32_t>(RTAX_ADVMSS);
  }
  if (auto ci = a.get<rta_cacheinfo>(RTA_CACHEINFO); ci && ci->rta_expires) {
    long hz = sysconf(_SC_CLK_TCK);
    r.expires_ms = static_cast<int64_t>(static_cast<int32_t>(ci->rta_expires)) * 1000 / (hz > 0 ? hz : 100);
  }
  Bytes mp = a.raw(RTA_MULTIPATH);
  while (mp.size() >= sizeof(rtnexthop)) {
    rtnexthop nh;
    std::memcpy(&nh, mp.data(), sizeof nh);
    if (nh.rtnh_len < sizeof nh || nh.rtnh_len > mp.size()) break;  // malformed: stop
    AttrTable<RTA_MAX + 1> na(mp.subspan(sizeof nh, nh.rtnh_len - sizeof nh));
    r.nexthops.push_back({gateway_of(na, r.family), nh.rtnh_ifindex, nh.rtnh_hops + 1, nh.rtnh_flags});
    size_t step = RTNH_ALIGN(nh.rtnh_len);
    mp = step >= mp.size() ? Bytes{} : mp.subspan(step);
  }
  if (r.nexthops.empty())
    r.nexthops.push_back({gateway_of(a, r.family), static_cast<int>(a.get<uint32_t>(RTA_OIF).value_or(0)), std::nullopt, 0});
  return r;
}

std::vector<Route> dump_routes(NetlinkSocket& rtnl, uint8_t family, uint32_t table) {
  Request req(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = family;
  rt.rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
  req.append(rt);
  if (table) req.add_attr(RTA_TABLE, &table, sizeof table);
  try {
    return collect<Route>(rtnl, req, parse_route);
  } catch (const NetlinkError& e) {
    if (table && e.error() == ENOENT) return {};  // the family has no such table
    throw;
  }
}

std::optional<Address> parse_address(const nlmsghdr* m) {
  auto h = header_of<ifaddrmsg>(m, RTM_NEWADDR);
  if (!h) return std::nullopt;
  AttrTable<IFA_MAX + 1> a(payload_after(m, sizeof(ifaddrmsg)));
  Address r;
  r.family = h->ifa_family;
  r.prefix_len = h->ifa_prefixlen;
  r.scope = h->ifa_scope;
  r.index = static_cast<int>(h->ifa_index);
  r.flags = a.get<uint32_t>(IFA_FLAGS).value_or(h->ifa_flags);
  std::string addr = addr_text(r.family, a.raw(IFA_ADDRESS));
  std::string local = addr_text(r.family, a.raw(IFA_LOCAL));
  // With a peer, IFA_LOCAL is ours and IFA_ADDRESS the other end.
  if (!local.empty()) {
    r.address = local;
    if (!addr.empty() && addr != local) r.peer = addr;
  } else {
    r.address = addr;
  }
  if (a.has(IFA_BROADCAST)) r.broadcast = addr_text(r.family, a.raw(IFA_BROADCAST));
  if (auto l = a.str(IFA_LABEL)) r.label = *l;
  if (auto ci = a.get<ifa_cacheinfo>(IFA_CACHEINFO)) {
    if (ci->ifa_valid != 0xFFFFFFFFu) r.valid_s = ci->ifa_valid;
    if (ci->ifa_prefered != 0xFFFFFFFFu) r.preferred_s = ci->ifa_prefered;
  }
  return r;
}

std::vector<Address> dump_addresses(NetlinkSocket& rtnl, uint8_t family) {
  Request req(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  req.append(ifa);
  return collect<Address>(rtnl, req, parse_address);
}

std::optional<Neighbor> parse_neighbor(const nlmsghdr* m) {
  auto h = header_of<ndmsg>(m, RTM_NEWNEIGH);
  if (!h) return std::nullopt;
  AttrTable<NDA_MAX + 1> a(payload_after(m, sizeof(ndmsg)));
  Neighbor n;
  n.family = h->ndm_family;
  n.type = h->ndm_type;
  n.state = h->ndm_state;
  n.flags = h->ndm_flags;
  n.index = h->ndm_ifindex;
  n.address = addr_text(n.family, a.raw(NDA_DST));
  Bytes ll = a.raw(NDA_LLADDR);
  if (ll.data() && !ll.empty()) n.mac = mac_text(ll.data(), ll.size());
  return n;
}

std::vector<Neighbor> dump_neighbors(NetlinkSocket& rtnl, uint8_t family) {
  Request req(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
  ndmsg nd{};
  nd.ndm_family = family;
  req.append(nd);
  return collect<Neighbor>(rtnl, req, parse_neighbor);
}

}  // namespace netsql::kernel
