// interface_addresses: every IPv4 and IPv6 address on every interface,
// secondary ones included, streamed from RTM_GETADDR.
#include <arpa/inet.h>

#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"
#include "vtabs/filters.h"
#include "vtabs/rtnl_rows.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  INTERFACE, FAMILY, ADDRESS, PREFIX_LEN, NETMASK, BROADCAST, PEER, SCOPE, LABEL, FLAGS, VALID_LFT_S, PREFERRED_LFT_S,
  kCount
};

constexpr std::array<Column, kCount> kColumns{{
    key({"interface", Type::Text, "interface name"}),
    key({"family", Type::Text, "'inet' or 'inet6'", kPushIn, 0.5, "picks the dump family"}),
    key({"address", Type::Text, "the local address, canonical text"}),
    key({"prefix_len", Type::Integer, "prefix length"}),
    {"netmask", Type::Text, "IPv4 netmask in dotted form; NULL for IPv6"},
    {"broadcast", Type::Text, "IPv4 broadcast address; NULL when none"},
    {"peer", Type::Text, "the other end of a point-to-point address; NULL when none"},
    {"scope", Type::Text, "global, site, link, host, or the number"},
    {"label", Type::Text, "IPv4 address label (eth0:1 style); NULL for IPv6"},
    {"flags", Type::Text, "comma-separated: secondary, temporary, permanent, tentative, deprecated, dadfailed, "
                          "noprefixroute, ..."},
    {"valid_lft_s", Type::Integer, "seconds the address stays valid; NULL for forever"},
    {"preferred_lft_s", Type::Integer, "seconds the address stays preferred; NULL for forever"},
}};

class AddressesCursor final : public RtnlCursor {
 public:
  AddressesCursor() : RtnlCursor("interface_addresses") {}

 private:
  std::vector<kernel::Request> requests(const Query& q) override {
    std::vector<kernel::Request> reqs;
    for (uint8_t fam : families(q, FAMILY)) reqs.push_back(kernel::address_dump_request(fam));
    return reqs;
  }

  bool accept(const nlmsghdr* m) override { return a_.parse(m); }

  void column(int col, Cell& out) override {
    switch (col) {
      case INTERFACE: return out.text(link_name(a_.index()));
      case FAMILY: return out.text(family_name(a_.family()));
      case ADDRESS: return out.text(a_.address());
      case PREFIX_LEN: return out.integer(a_.header().ifa_prefixlen);
      case NETMASK: {
        unsigned len = a_.header().ifa_prefixlen;
        if (a_.family() != AF_INET || len > 32) return out.null();
        uint32_t mask = len == 0 ? 0 : htonl(~uint32_t{0} << (32 - len));
        return out.text(kernel::address_text(AF_INET, &mask));
      }
      case BROADCAST: return out.text_or_null(a_.broadcast());
      case PEER: return out.text_or_null(a_.peer());
      case SCOPE: return out.text(kernel::route_scope_name(a_.header().ifa_scope));
      case LABEL: return out.text_or_null(a_.label());
      case FLAGS: return out.text(kernel::address_flags_text(a_.flags(), a_.family()));
      case VALID_LFT_S: return out.integer(a_.valid_s());
      case PREFERRED_LFT_S: return out.integer(a_.preferred_s());
      default: return out.null();
    }
  }

  kernel::AddressMessage a_;
};

}  // namespace

const TableDef kInterfaceAddresses{
    "interface_addresses",
    "IPv4 and IPv6 addresses of every interface, secondary and temporary ones included, from rtnetlink.",
    kColumns,
    20,
    [] { return std::unique_ptr<Cursor>(new AddressesCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
