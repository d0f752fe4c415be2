// raw_sockets: raw IP sockets (netstat -w), from /proc/net/raw and raw6:
// the raw_diag netlink module is optional and missing on many kernels.
#include "kernel/procfs.h"
#include "kernel/sock_diag.h"
#include "vtabs/owners.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { FAMILY, LOCAL_ADDRESS, PROTOCOL, REMOTE_ADDRESS, STATE, RECV_Q, SEND_Q, UID, INODE, DROPS, kOwnerFirst };

constexpr std::array<Column, kOwnerFirst> kRawColumns{{
    {"family", Type::Text, "'inet' or 'inet6'"},
    {"local_address", Type::Text, "bound local address, canonical text"},
    {"protocol", Type::Integer, "IP protocol number the socket receives (1 ICMP, 58 ICMPv6, 255 raw, ...)"},
    {"remote_address", Type::Text, "connected remote address; 0.0.0.0 or :: when unconnected"},
    {"state", Type::Text, "ESTABLISHED when connected, UNCONN otherwise"},
    {"recv_q", Type::Integer, "bytes queued for reading"},
    {"send_q", Type::Integer, "bytes queued for sending"},
    {"uid", Type::Integer, "owning user id"},
    key({"inode", Type::Integer, "socket inode"}),
    {"drops", Type::Integer, "packets dropped before reaching the socket"},
}};
constexpr auto kColumns = concat(kRawColumns, kOwnerColumns);

class RawCursor final : public RowsCursor<kernel::RawSock> {
  void load(const Query& q, std::vector<kernel::RawSock>& rows) override {
    owners_.prepare(q, kOwnerFirst);
    rows = kernel::raw_sockets(*q.netns);
  }
  void column(const kernel::RawSock& r, int col, Cell& out) override {
    switch (col) {
      case FAMILY: return out.text(r.family);
      case LOCAL_ADDRESS: return out.text(r.local);
      case PROTOCOL: return out.integer(r.protocol);
      case REMOTE_ADDRESS: return out.text(r.remote);
      case STATE: return out.text(r.state == kernel::kEstablished ? "ESTABLISHED" : "UNCONN");
      case RECV_Q: return out.integer(r.recv_q);
      case SEND_Q: return out.integer(r.send_q);
      case UID: return out.integer(r.uid);
      case INODE: return out.integer(static_cast<int64_t>(r.inode));
      case DROPS: return out.integer(r.drops);
      default: return owners_.column(col - kOwnerFirst, r.inode, out);
    }
  }
  Owners owners_;
};

}  // namespace

const TableDef kRawSockets{
    "raw_sockets",
    "Raw IP sockets (IPv4 and IPv6) of the network namespace (netstat -w), from /proc/net/raw and raw6.",
    kColumns,
    10,
    [] { return std::unique_ptr<Cursor>(new RawCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
