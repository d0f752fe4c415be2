// multicast_groups: multicast memberships per interface (netstat -g,
// ip maddr), from /proc/net/igmp, igmp6 and dev_mcast: the only sources
// that give each group's user count (RTM_GETMULTICAST does not).
#include "kernel/procfs.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { INTERFACE, FAMILY, GROUP_ADDRESS, USERS, SOURCE, kCount };

constexpr std::array<Column, kCount> kColumns{{
    {"interface", Type::Text, "interface name"},
    {"family", Type::Text, "'inet', 'inet6', or 'link' for link-layer groups"},
    {"group_address", Type::Text, "group address: canonical IP text, or a colon-separated MAC for link-layer groups"},
    {"users", Type::Integer, "how many memberships hold the group (sockets, the kernel itself)"},
    {"source", Type::Text, "'igmp' (IPv4), 'igmp6' (IPv6) or 'link' (link-layer filter)"},
}};

class McastCursor final : public RowsCursor<kernel::McastGroup> {
  void load(const Query& q, std::vector<kernel::McastGroup>& rows) override {
    rows = kernel::multicast_groups(*q.netns);
  }
  void column(const kernel::McastGroup& g, int col, Cell& out) override {
    switch (col) {
      case INTERFACE: return out.text(g.interface);
      case FAMILY: return out.text(g.family);
      case GROUP_ADDRESS: return out.text(g.group);
      case USERS: return out.integer(g.users);
      case SOURCE: return out.text(g.source);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kMulticastGroups{
    "multicast_groups",
    "Multicast group memberships per interface (netstat -g): IPv4, IPv6 and link-layer.",
    kColumns,
    20,
    [] { return std::unique_ptr<Cursor>(new McastCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
