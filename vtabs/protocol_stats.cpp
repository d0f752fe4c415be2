// protocol_stats: every protocol counter of the namespace, from
// /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6 (netstat -s, nstat).
#include "kernel/procfs.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { PROTOCOL, NAME, VALUE, kCount };

constexpr std::array<Column, kCount> kColumns{{
    key({"protocol", Type::Text,
         "Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite, TcpExt, IpExt, MPTcpExt, Ip6, Icmp6, Udp6, ..."}),
    key({"name", Type::Text, "the kernel's counter name, e.g. ActiveOpens (nstat shows protocol and name joined)"}),
    {"value", Type::Integer, "counter value (64-bit; a few, such as Tcp MaxConn, may be -1)"},
}};

class StatsCursor final : public RowsCursor<kernel::Counter> {
  void load(const Query& q, std::vector<kernel::Counter>& rows) override {
    rows = kernel::protocol_counters(*q.netns);
  }
  void column(const kernel::Counter& c, int col, Cell& out) override {
    switch (col) {
      case PROTOCOL: return out.text(c.protocol);
      case NAME: return out.text(c.name);
      case VALUE: return out.integer(c.value);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kProtocolStats{
    "protocol_stats",
    "Protocol counters (netstat -s, nstat): one row per counter of /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6.",
    kColumns,
    400,
    [] { return std::unique_ptr<Cursor>(new StatsCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
