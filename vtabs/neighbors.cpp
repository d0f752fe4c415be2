// neighbors: the IPv4 ARP and IPv6 NDP caches, streamed from RTM_GETNEIGH.
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
    key({"address", Type::Text, "neighbour's network address"}),
    {"mac", Type::Text, "neighbour's link-layer address; NULL while unresolved (INCOMPLETE, FAILED)"},
    key({"interface", Type::Text, "interface the neighbour is on"}),
    {"state", Type::Text, "REACHABLE, STALE, DELAY, PROBE, FAILED, NOARP, PERMANENT, INCOMPLETE, NONE"},
    {"router", Type::Integer, "1 if the neighbour said it is a router (IPv6), else 0"},
}};

class NeighborsCursor final : public RtnlCursor {
 public:
  NeighborsCursor() : RtnlCursor("neighbors") {}

 private:
  std::vector<kernel::Request> requests(const Query& q) override {
    std::vector<kernel::Request> reqs;
    for (uint8_t fam : families(q, FAMILY)) reqs.push_back(kernel::neighbor_dump_request(fam));
    return reqs;
  }

  // Entries without an address of their family are not inet neighbours.
  bool accept(const nlmsghdr* m) override { return n_.parse(m) && n_.has_address(); }

  void column(int col, Cell& out) override {
    const ndmsg& h = n_.header();
    switch (col) {
      case FAMILY: return out.text(family_name(h.ndm_family));
      case ADDRESS: return out.text(n_.address());
      case MAC: return out.text_or_null(n_.mac());
      case INTERFACE: return out.text(link_name(h.ndm_ifindex));
      case STATE: return out.text(kernel::neighbor_state_name(h.ndm_state));
      case ROUTER: return out.integer((h.ndm_flags & NTF_ROUTER) ? 1 : 0);
      default: return out.null();
    }
  }

  kernel::NeighborMessage n_;
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
