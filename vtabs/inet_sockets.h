// What tcp_sockets and udp_sockets share: the leading socket-identity
// columns, the trailing memory columns, and a cursor that streams one
// sock_diag dump per address family straight from the netlink buffer (no
// row is copied; memory stays bounded at 100k sockets and beyond).
#pragma once

#include <netinet/in.h>

#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "kernel/netlink.h"
#include "kernel/rtnl.h"
#include "kernel/sock_diag.h"
#include "vtabs/owners.h"
#include "vtabs/scan_stats.h"
#include "vtabs/table.h"

namespace netsql::vt::inet {

enum Common {
  FAMILY, LOCAL_ADDRESS, LOCAL_PORT, REMOTE_ADDRESS, REMOTE_PORT, STATE, RECV_Q, SEND_Q,
  UID, INODE, COOKIE, INTERFACE, kCommonCount
};

// Column c, serving `function` (Column::function).
constexpr Column serving(std::string_view function, Column c) {
  c.function = function;
  return c;
}

// `state_doc` differs per protocol; everything else is shared.
constexpr std::array<Column, kCommonCount> common_columns(std::string_view state_doc) {
  return {{
      {"family", Type::Text, "'inet' or 'inet6'", kPushIn, 0.5, "picks the sock_diag request family"},
      serving("in_subnet", {"local_address", Type::Text, "local address, canonical text (inet_ntop)", kPushIn, 0.1,
                            "a kernel bytecode filter"}),
      {"local_port", Type::Integer, "local port", kPushIn | kPushRange, 0.01, "a kernel bytecode filter"},
      serving("in_subnet", {"remote_address", Type::Text, "remote address; 0.0.0.0 or :: when unconnected", kPushIn,
                            0.05, "a kernel bytecode filter"}),
      {"remote_port", Type::Integer, "remote port, 0 when unconnected", kPushIn | kPushRange, 0.01,
       "a kernel bytecode filter"},
      {"state", Type::Text, state_doc, kPushIn | kPushNe, 0.1, "the kernel's state mask"},
      {"recv_q", Type::Integer, "bytes queued for reading (for LISTEN: connections waiting in accept queue)"},
      {"send_q", Type::Integer, "bytes queued for sending (for LISTEN: accept backlog limit)"},
      {"uid", Type::Integer, "owning user id"},
      {"inode", Type::Integer, "socket inode (as in /proc/PID/fd/N -> socket:[inode]); 0 for TIME_WAIT and request sockets"},
      {"cookie", Type::Integer, "kernel socket cookie (unique while the socket lives)"},
      {"interface", Type::Text, "device the socket is bound to (SO_BINDTODEVICE or IPv6 scope), NULL if none"},
  }};
}

// Column::needs for sock_diag tables: the extensions (idiag_ext bits) a
// column's value comes from. A dump asks for those of the columns a query
// reads, nothing more.
inline constexpr unsigned kTcpInfo = 1u << (INET_DIAG_INFO - 1);
inline constexpr unsigned kCongestion = 1u << (INET_DIAG_CONG - 1);
inline constexpr unsigned kMemory = 1u << (INET_DIAG_SKMEMINFO - 1);
static_assert(((kTcpInfo | kCongestion | kMemory) >> 8) == 0, "idiag_ext is a u8");

// Column c, declared as filled from the extensions `needs`.
constexpr Column needing(unsigned needs, Column c) {
  c.needs = needs;
  return c;
}

enum Memory { RMEM, WMEM, RCVBUF, SNDBUF, DROPS, kMemoryCount };
inline constexpr std::array<Column, kMemoryCount> kMemoryColumns{{
    needing(kMemory, {"rmem", Type::Integer, "bytes allocated to the receive queue (skmem r)"}),
    needing(kMemory, {"wmem", Type::Integer, "bytes allocated to the send path (skmem t)"}),
    needing(kMemory, {"rcvbuf", Type::Integer, "receive buffer limit, bytes (SO_RCVBUF)"}),
    needing(kMemory, {"sndbuf", Type::Integer, "send buffer limit, bytes (SO_SNDBUF)"}),
    needing(kMemory, {"drops", Type::Integer, "packets dropped before reaching the socket"}),
}};

// The tcp_info columns, shared by tcp_sockets and closed_sockets: two runs,
// because tcp_sockets puts its congestion column between them.
enum class TcpInfo {
  RttUs, RttvarUs, RtoMs, Cwnd, Ssthresh, Mss, Pmtu, Unacked, Lost, RetransTotal, BytesSent, BytesAcked,
  BytesReceived, BytesRetrans, SegsOut, SegsIn, DeliveryRateBps, PacingRateBps,  // first run
  LastSendMs, LastRecvMs, LastAckMs, BusyMs, kCount
};
inline constexpr int kTcpInfoFirstRun = static_cast<int>(TcpInfo::LastSendMs);
inline constexpr int kTcpInfoSecondRun = static_cast<int>(TcpInfo::kCount) - kTcpInfoFirstRun;

inline constexpr std::array<Column, kTcpInfoFirstRun> kTcpInfoColumns1{{
    needing(kTcpInfo, {"rtt_us", Type::Integer, "smoothed round-trip time, microseconds"}),
    needing(kTcpInfo, {"rttvar_us", Type::Integer, "round-trip time variance, microseconds"}),
    needing(kTcpInfo, {"rto_ms", Type::Integer, "retransmission timeout, milliseconds"}),
    needing(kTcpInfo, {"cwnd", Type::Integer, "congestion window, segments"}),
    needing(kTcpInfo, {"ssthresh", Type::Integer, "slow-start threshold, segments; NULL while infinite"}),
    needing(kTcpInfo, {"mss", Type::Integer, "sender maximum segment size, bytes"}),
    needing(kTcpInfo, {"pmtu", Type::Integer, "path MTU, bytes"}),
    needing(kTcpInfo, {"unacked", Type::Integer, "segments sent and not yet acknowledged"}),
    needing(kTcpInfo, {"lost", Type::Integer, "segments considered lost"}),
    needing(kTcpInfo, {"retrans_total", Type::Integer, "segments retransmitted over the connection's life"}),
    needing(kTcpInfo, {"bytes_sent", Type::Integer, "bytes sent, retransmissions included"}),
    needing(kTcpInfo, {"bytes_acked", Type::Integer, "bytes acknowledged by the peer"}),
    needing(kTcpInfo, {"bytes_received", Type::Integer, "bytes received"}),
    needing(kTcpInfo, {"bytes_retrans", Type::Integer, "bytes retransmitted"}),
    needing(kTcpInfo, {"segs_out", Type::Integer, "segments sent"}),
    needing(kTcpInfo, {"segs_in", Type::Integer, "segments received"}),
    needing(kTcpInfo, {"delivery_rate_bps", Type::Integer, "most recent delivery rate, bits per second"}),
    needing(kTcpInfo, {"pacing_rate_bps", Type::Integer, "pacing rate, bits per second; NULL when unlimited"}),
}};
inline constexpr std::array<Column, kTcpInfoSecondRun> kTcpInfoColumns2{{
    needing(kTcpInfo, {"last_send_ms", Type::Integer, "milliseconds since data was last sent"}),
    needing(kTcpInfo, {"last_recv_ms", Type::Integer, "milliseconds since data was last received"}),
    needing(kTcpInfo, {"last_ack_ms", Type::Integer, "milliseconds since an ACK was last received"}),
    needing(kTcpInfo, {"busy_ms", Type::Integer, "milliseconds spent with data in flight"}),
}};

// Field `f` of the socket's INET_DIAG_INFO (tcp_info); NULL when the
// message has none or this kernel's tcp_info is too short to hold it.
void tcp_info_column(kernel::InetSock& sock, TcpInfo f, Cell& out);

// Streams sock_diag dumps for one protocol. Derived tables add their own
// columns between the common block and the memory + owner blocks.
class InetCursor : public Cursor {
 public:
  InetCursor(uint8_t protocol, ScannedTable table, std::span<const Column> columns, int memory_first)
      : protocol_(protocol), table_(table), columns_(columns), memory_first_(memory_first) {}

  void filter(const Query& q) override;
  bool eof() const override { return eof_; }
  void next() override;
  void column(int col, Cell& out) override;
  // The socket cookie: unique while the socket lives, the same in every
  // dump, so SQLite's OR plans (one scan per branch) neither drop nor
  // repeat a socket.
  std::optional<int64_t> identity() const override { return static_cast<int64_t>(sock_.cookie()); }

 protected:
  virtual uint32_t default_states() const = 0;
  virtual std::optional<uint32_t> states_for(std::string_view name) const = 0;
  virtual std::string invalid_state(std::string_view name) const = 0;
  // `requested` is the state mask the dump asked for.
  virtual std::string_view state_name(int kernel_state, uint32_t requested) const = 0;
  virtual void protocol_column(int col, Cell& out) = 0;

  kernel::InetSock sock_;

 private:
  void interface_column(Cell& out);

  uint8_t protocol_;
  ScannedTable table_;
  std::span<const Column> columns_;
  int memory_first_;
  uint64_t scan_number_ = 0;
  uint32_t states_ = 0;
  std::optional<kernel::DumpSequence> dumps_;
  bool eof_ = true;
  std::optional<kernel::LinkNameCache> links_;
  Owners owners_;
  const kernel::Netns* netns_ = nullptr;  // for interface names, looked up lazily
};

}  // namespace netsql::vt::inet
