// Per-interface IP settings (the /proc/sys/net/ipv4/conf/IF and ipv6/conf/IF
// values) as the kernel reports them in every RTM_NEWLINK reply: the
// IFLA_INET_CONF and IFLA_INET6_CONF arrays nested in IFLA_AF_SPEC. One
// link dump gives them for every interface. Part of the kernel layer.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>

namespace netsql::kernel {

struct Devconf {
  // IPv4 (absent when the interface has no IPv4 configuration)
  std::optional<int64_t> ipv4_forwarding, rp_filter, accept_redirects;
  // IPv6 (absent when the interface has no IPv6 configuration)
  std::optional<int64_t> ipv6_forwarding, accept_ra, disable_ipv6, hop_limit, mtu6;
};

// The settings in an RTM_NEWLINK message; every field absent when the
// message has none (or is not RTM_NEWLINK). An array shorter than an
// index leaves that field absent; a damaged attribute ends the walk.
Devconf parse_devconf(const nlmsghdr* m);

}  // namespace netsql::kernel
