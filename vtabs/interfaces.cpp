// interfaces: every network interface with its 64-bit counters, streamed
// from RTM_GETLINK (IFLA_STATS64).
#include "kernel/rtnl.h"
#include "kernel/rtnl_names.h"
#include "vtabs/rtnl_rows.h"
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
    key({"ifindex", Type::Integer, "the same interface index, under a name SQL does not reserve", kPushEq, 0.01,
         "the kernel looks up just this link"}),
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

class InterfacesCursor final : public RtnlCursor {
 public:
  InterfacesCursor() : RtnlCursor("interfaces") {}

 private:
  std::vector<kernel::Request> requests(const Query& q) override {
    return link_requests(q, {INDEX, IFINDEX}, NAME, /*stats*/ true);
  }

  std::vector<int> empty_on() const override { return {ENODEV, EINVAL}; }  // no such link

  bool accept(const nlmsghdr* m) override { return link_.parse(m); }

  void column(int col, Cell& out) override {
    if (col >= RX_PACKETS) {
      auto stats = link_.stats();
      if (!stats) return out.null();
      const rtnl_link_stats64& s = *stats;
      const uint64_t values[] = {s.rx_packets, s.rx_bytes, s.rx_errors, s.rx_dropped, s.rx_missed_errors,
                                 s.rx_fifo_errors, s.rx_frame_errors, s.rx_crc_errors, s.rx_length_errors,
                                 s.rx_over_errors, s.multicast, s.tx_packets, s.tx_bytes, s.tx_errors, s.tx_dropped,
                                 s.tx_fifo_errors, s.tx_carrier_errors, s.collisions};
      return out.integer(static_cast<int64_t>(values[col - RX_PACKETS]));
    }
    const ifinfomsg& h = link_.header();
    switch (col) {
      case INDEX: case IFINDEX: return out.integer(h.ifi_index);
      case NAME: return out.text(link_.name());
      case KIND: return out.text_or_null(link_.kind());
      case MTU: return out.integer(link_.mtu());
      case MAC: return out.text_or_null(link_.mac());
      case BROADCAST_MAC: return out.text_or_null(link_.broadcast_mac());
      case OPERSTATE: return out.text(kernel::operstate_name(link_.operstate()));
      case FLAGS: return out.text(kernel::netstat_link_flags(h.ifi_flags));
      case FLAGS_LIST: return out.text(kernel::ifconfig_link_flags(h.ifi_flags));
      case TXQUEUELEN: return out.integer(link_.txqlen());
      case QDISC: return out.text_or_null(link_.qdisc());
      case MASTER: return out.text_or_null(link_name(link_.master()));
      case CARRIER_CHANGES: return out.integer(link_.carrier_changes());
      default: return out.null();
    }
  }

  kernel::LinkMessage link_;
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
