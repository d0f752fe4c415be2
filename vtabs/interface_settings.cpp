// interface_settings: per-interface IPv4 and IPv6 settings (the values of
// /proc/sys/net/ipv4/conf/IF and ipv6/conf/IF), streamed from RTM_GETLINK,
// whose replies carry them in IFLA_AF_SPEC: one dump for every interface.
#include "kernel/devconf.h"
#include "kernel/rtnl.h"
#include "vtabs/rtnl_rows.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  IFINDEX, NAME, IPV4_FORWARDING, RP_FILTER, ACCEPT_REDIRECTS, IPV6_FORWARDING, ACCEPT_RA, DISABLE_IPV6, HOP_LIMIT,
  MTU6_BYTES, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    key({"ifindex", Type::Integer, "interface index", kPushEq, 0.01, "the kernel looks up just this link"}),
    {"name", Type::Text, "interface name", kPushEq, 0.01, "the kernel looks up just this link"},
    {"ipv4_forwarding", Type::Integer, "net.ipv4.conf.IF.forwarding: 1 when IPv4 packets are routed between "
                                       "interfaces; NULL when the interface has no IPv4 configuration"},
    {"rp_filter", Type::Integer, "net.ipv4.conf.IF.rp_filter: 0 off, 1 strict, 2 loose reverse-path filtering (the "
                                 "kernel applies the larger of this and conf.all's)"},
    {"accept_redirects", Type::Integer, "net.ipv4.conf.IF.accept_redirects: 1 when ICMP redirects are accepted"},
    {"ipv6_forwarding", Type::Integer, "net.ipv6.conf.IF.forwarding: 1 when IPv6 packets are routed; NULL when the "
                                       "interface has no IPv6 configuration"},
    {"accept_ra", Type::Integer, "net.ipv6.conf.IF.accept_ra: 0 ignore router advertisements, 1 accept unless "
                                 "forwarding, 2 accept even when forwarding"},
    {"disable_ipv6", Type::Integer, "net.ipv6.conf.IF.disable_ipv6: 1 when IPv6 is off on the interface"},
    {"hop_limit", Type::Integer, "net.ipv6.conf.IF.hop_limit: default hop limit of IPv6 packets sent, hops"},
    {"mtu6_bytes", Type::Integer, "net.ipv6.conf.IF.mtu: IPv6 MTU, bytes"},
}};

class SettingsCursor final : public RtnlCursor {
 public:
  SettingsCursor() : RtnlCursor("interface_settings") {}

 private:
  std::vector<kernel::Request> requests(const Query& q) override {
    return link_requests(q, {IFINDEX}, NAME, /*stats*/ false);
  }

  std::vector<int> empty_on() const override { return {ENODEV, EINVAL}; }  // no such link

  bool accept(const nlmsghdr* m) override {
    if (!link_.parse(m)) return false;
    conf_ = kernel::parse_devconf(m);
    return true;
  }

  void column(int col, Cell& out) override {
    switch (col) {
      case IFINDEX: return out.integer(link_.header().ifi_index);
      case NAME: return out.text(link_.name());
      case IPV4_FORWARDING: return out.integer(conf_.ipv4_forwarding);
      case RP_FILTER: return out.integer(conf_.rp_filter);
      case ACCEPT_REDIRECTS: return out.integer(conf_.accept_redirects);
      case IPV6_FORWARDING: return out.integer(conf_.ipv6_forwarding);
      case ACCEPT_RA: return out.integer(conf_.accept_ra);
      case DISABLE_IPV6: return out.integer(conf_.disable_ipv6);
      case HOP_LIMIT: return out.integer(conf_.hop_limit);
      case MTU6_BYTES: return out.integer(conf_.mtu6);
      default: return out.null();
    }
  }

  kernel::LinkMessage link_;
  kernel::Devconf conf_;
};

}  // namespace

const TableDef kInterfaceSettings{
    "interface_settings",
    "Per-interface IPv4 and IPv6 settings (forwarding, rp_filter, accept_ra, ...: the values of "
    "/proc/sys/net/ipv4/conf/IF and ipv6/conf/IF), from rtnetlink (RTM_GETLINK, IFLA_AF_SPEC).",
    kColumns,
    10,
    [] { return std::unique_ptr<Cursor>(new SettingsCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
