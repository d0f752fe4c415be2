// interfaces: every network interface with its 64-bit counters, from
// RTM_GETLINK (IFLA_STATS64).
#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  INDEX, IFINDEX, NAME, KIND, MTU, MAC, BROADCAST_MAC, OPERSTATE, FLAGS, FLAGS_LIST, TXQUEUELEN, QDISC, MASTER,
  CARRIER_CHANGES, RX_PACKETS, RX_BYTES, RX_ERRORS, RX_DROPPED, RX_MISSED, RX_FIFO_ERRORS, RX_FRAME_ERRORS,
  RX_CRC_ERRORS, RX_LENGTH_ERRORS, RX_OVER_ERRORS, MULTICAST, TX_PACKETS, TX_BYTES, TX_ERRORS, TX_DROPPED,
  TX_FIFO_ERRORS, TX_CARRIER_ERRORS, COLLISIONS, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    {"index", Type::Integer, "interface index (a keyword in SQL: write \"index\", or use ifindex)", kPushEq, 0.01,
     "the kernel looks up just this link"},
    {"ifindex", Type::Integer, "the same interface index, under a name SQL does not reserve", kPushEq, 0.01,
     "the kernel looks up just this link"},
    {"name", Type::Text, "interface name", kPushEq, 0.01, "the kernel looks up just this link"},
    {"kind", Type::Text, "link kind from IFLA_LINKINFO (veth, bridge, tun, ...), else loopback or ether"},
    {"mtu", Type::Integer, "MTU, bytes"},
    {"mac", Type::Text, "link-layer address, colon-separated hex; NULL when the link has none"},
    {"broadcast_mac", Type::Text, "link-layer broadcast address; NULL when none"},
    {"operstate", Type::Text, "RFC 2863 operational state: UP, DOWN, LOWERLAYERDOWN, DORMANT, UNKNOWN, ..."},
    {"flags", Type::Text, "netstat -i flag letters, e.g. BMRU"},
    {"flags_list", Type::Text, "flags as ifconfig prints them, e.g. UP,BROADCAST,RUNNING,MULTICAST"},
    {"txqueuelen", Type::Integer, "transmit queue length, packets"},
    {"qdisc", Type::Text, "root queueing discipline"},
    {"master", Type::Text, "bridge or bond this link is enslaved to; NULL when none"},
    {"carrier_changes", Type::Integer, "times the carrier went up or down"},
    {"rx_packets", Type::Integer, "packets received"},
    {"rx_bytes", Type::Integer, "bytes received"},
    {"rx_errors", Type::Integer, "receive errors"},
    {"rx_dropped", Type::Integer, "received packets dropped by the stack"},
    {"rx_missed", Type::Integer, "received packets missed by the device (rx_missed_errors)"},
    {"rx_fifo_errors", Type::Integer, "receive FIFO overruns (netstat -i RX-OVR)"},
    {"rx_frame_errors", Type::Integer, "frame alignment errors"},
    {"rx_crc_errors", Type::Integer, "CRC errors"},
    {"rx_length_errors", Type::Integer, "length errors"},
    {"rx_over_errors", Type::Integer, "receive ring overflows"},
    {"multicast", Type::Integer, "multicast packets received"},
    {"tx_packets", Type::Integer, "packets sent"},
    {"tx_bytes", Type::Integer, "bytes sent"},
    {"tx_errors", Type::Integer, "transmit errors"},
    {"tx_dropped", Type::Integer, "packets dropped on transmit"},
    {"tx_fifo_errors", Type::Integer, "transmit FIFO errors (netstat -i TX-OVR)"},
    {"tx_carrier_errors", Type::Integer, "carrier errors"},
    {"collisions", Type::Integer, "collisions"},
}};

struct Row {
  kernel::Link link;
  std::string master;
};

class InterfacesCursor final : public RowsCursor<Row> {
  void load(const Query& q, std::vector<Row>& rows) override {
    int index = 0;
    std::string name;
    for (int col : {INDEX, IFINDEX})
      if (const auto* v = q.values(col)) {
        auto i = v->empty() ? std::nullopt : (*v)[0].as_integer();
        if (!i || *i <= 0 || *i > INT32_MAX) return;  // no link has it
        index = static_cast<int>(*i);
      }
    if (const auto* v = q.values(NAME)) {
      const std::string* t = v->empty() ? nullptr : (*v)[0].as_text();
      if (!t || t->empty() || t->size() >= 16) return;  // IFNAMSIZ
      name = *t;
    }
    kernel::NetlinkSocket rtnl = kernel::rtnl_socket(*q.netns);
    auto links = kernel::dump_links(rtnl, index, name);
    kernel::LinkNames names;
    bool any_master = false;
    for (const auto& l : links) any_master |= l.master != 0;
    if (any_master) names = kernel::link_names(rtnl);
    for (auto& l : links) {
      std::string master = kernel::link_name(names, l.master);
      rows.push_back({std::move(l), std::move(master)});
    }
  }

  void column(const Row& row, int col, Cell& out) override {
    const kernel::Link& l = row.link;
    if (col >= RX_PACKETS) {
      if (!l.stats) return out.null();
      const rtnl_link_stats64& s = *l.stats;
      const uint64_t values[] = {s.rx_packets, s.rx_bytes, s.rx_errors, s.rx_dropped, s.rx_missed_errors,
                                 s.rx_fifo_errors, s.rx_frame_errors, s.rx_crc_errors, s.rx_length_errors,
                                 s.rx_over_errors, s.multicast, s.tx_packets, s.tx_bytes, s.tx_errors, s.tx_dropped,
                                 s.tx_fifo_errors, s.tx_carrier_errors, s.collisions};
      return out.integer(static_cast<int64_t>(values[col - RX_PACKETS]));
    }
    switch (col) {
      case INDEX: case IFINDEX: return out.integer(l.index);
      case NAME: return out.text(l.name);
      case KIND: return out.text_or_null(l.kind);
      case MTU: return out.integer(l.mtu);
      case MAC: return out.text_or_null(l.mac);
      case BROADCAST_MAC: return out.text_or_null(l.broadcast_mac);
      case OPERSTATE: return out.text(kernel::operstate_name(l.operstate));
      case FLAGS: return out.text(kernel::netstat_link_flags(l.flags));
      case FLAGS_LIST: return out.text(kernel::ifconfig_link_flags(l.flags));
      case TXQUEUELEN: return out.integer(l.txqlen);
      case QDISC: return out.text_or_null(l.qdisc);
      case MASTER: return out.text_or_null(row.master);
      case CARRIER_CHANGES: return out.integer(l.carrier_changes);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kInterfaces{
    "interfaces",
    "Network interfaces with their 64-bit counters, from rtnetlink (RTM_GETLINK, IFLA_STATS64).",
    kColumns,
    10,
    [] { return std::unique_ptr<Cursor>(new InterfacesCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
