// Decodes IFLA_AF_SPEC's devconf arrays: IPv4's u32 values are indexed by
// IPV4_DEVCONF_* - 1, IPv6's s32 values by DEVCONF_*.
#include "kernel/devconf.h"

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "kernel/attrs.h"
#include "kernel/netlink.h"

namespace netsql::kernel {
namespace {

// Element `i` of an array of 32-bit values, signed or not.
template <class T>
std::optional<int64_t> element(Bytes array, size_t i) {
  if (!array.data() || array.size() / sizeof(T) <= i) return std::nullopt;
  T v;
  std::memcpy(&v, array.data() + i * sizeof(T), sizeof v);
  return static_cast<int64_t>(v);
}

}  // namespace

Devconf parse_devconf(const nlmsghdr* m) {
  Devconf d;
  if (m->nlmsg_type != RTM_NEWLINK || m->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return d;
  AttrTable<IFLA_MAX + 1> link(payload_after(m, sizeof(ifinfomsg)));
  AttrWalker families(link.raw(IFLA_AF_SPEC));
  while (auto f = families.next()) {
    if (f->type == AF_INET) {
      AttrTable<IFLA_INET_MAX + 1> a(f->data);
      Bytes conf = a.raw(IFLA_INET_CONF);
      d.ipv4_forwarding = element<uint32_t>(conf, IPV4_DEVCONF_FORWARDING - 1);
      d.rp_filter = element<uint32_t>(conf, IPV4_DEVCONF_RP_FILTER - 1);
      d.accept_redirects = element<uint32_t>(conf, IPV4_DEVCONF_ACCEPT_REDIRECTS - 1);
    } else if (f->type == AF_INET6) {
      AttrTable<IFLA_INET6_MAX + 1> a(f->data);
      Bytes conf = a.raw(IFLA_INET6_CONF);
      d.ipv6_forwarding = element<int32_t>(conf, DEVCONF_FORWARDING);
      d.hop_limit = element<int32_t>(conf, DEVCONF_HOPLIMIT);
      d.mtu6 = element<int32_t>(conf, DEVCONF_MTU6);
      d.accept_ra = element<int32_t>(conf, DEVCONF_ACCEPT_RA);
      d.disable_ipv6 = element<int32_t>(conf, DEVCONF_DISABLE_IPV6);
    }
  }
  return d;
}

}  // namespace netsql::kernel
