// neighbors: the IPv4 ARP and IPv6 NDP caches, from RTM_GETNEIGH.
#include <linux/neighbour.h>

#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "vtabs/filters.h"
#include "vtabs/rtnl_rows.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { FAMILY, ADDRESS, MAC, INTERFACE, STATE, ROUTER, kCount };

constexpr std::array<Column, kCount> kColumns{{
    {"family", Type::Text, "'inet' (ARP) or 'inet6' (NDP)", kPushIn, 0.5, "picks the dump family"},
    {"address", Type::Text, "neighbour's network address"},
    {"mac", Type::Text, "neighbour's link-layer address; NULL while unresolved (INCOMPLETE, FAILED)"},
    {"interface", Type::Text, "interface the neighbour is on"},
    {"state", Type::Text, "REACHABLE, STALE, DELAY, PROBE, FAILED, NOARP, PERMANENT, INCOMPLETE, NONE"},
    {"router", Type::Integer, "1 if the neighbour said it is a router (IPv6), else 0"},
}};

using Row = Named<kernel::Neighbor>;

class NeighborsCursor final : public RowsCursor<Row> {
  void load(const Query& q, std::vector<Row>& rows) override {
    load_named(q, FAMILY, rows, kernel::dump_neighbors, [](const kernel::Neighbor& n) { return n.index; });
    std::erase_if(rows, [](const Row& r) { return r.item.address.empty(); });  // not an inet entry
  }

  void column(const Row& row, int col, Cell& out) override {
    const kernel::Neighbor& n = row.item;
    switch (col) {
      case FAMILY: return out.text(family_name(n.family));
      case ADDRESS: return out.text(n.address);
      case MAC: return out.text_or_null(n.mac);
      case INTERFACE: return out.text(row.interface);
      case STATE: return out.text(kernel::neighbor_state_name(n.state));
      case ROUTER: return out.integer((n.flags & NTF_ROUTER) ? 1 : 0);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kNeighbors{
    "neighbors",
    "The neighbour tables: IPv4 ARP and IPv6 NDP caches, from rtnetlink.",
    kColumns,
    20,
    [] { return std::unique_ptr<Cursor>(new NeighborsCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
