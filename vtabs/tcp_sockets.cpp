// tcp_sockets: every TCP socket of the namespace, from sock_diag, with
// tcp_info, congestion control and socket memory fetched only when a query
// reads those columns.
#include "vtabs/inet_sockets.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

using namespace inet;

enum Tcp {
  TIMER = kCommonCount, TIMER_EXPIRES_MS, RETRANSMITS,
  INFO_FIRST,  // kTcpInfoColumns1
  CONGESTION = INFO_FIRST + kTcpInfoFirstRun,
  INFO_SECOND,  // kTcpInfoColumns2
  kTcpEnd = INFO_SECOND + kTcpInfoSecondRun
};

constexpr std::array<Column, 3> kTimerColumns{{
    {"timer", Type::Text, "pending timer: off, on (retransmit), keepalive, timewait, probe (zero window)"},
    {"timer_expires_ms", Type::Integer, "milliseconds until the timer fires"},
    {"retransmits", Type::Integer, "retransmissions of the timer's current round (or keepalive probes sent)"},
}};
constexpr std::array<Column, 1> kCongestionColumn{{
    needing(kCongestion, {"congestion", Type::Text, "congestion control algorithm (cubic, bbr, ...)"}),
}};

constexpr auto kColumns = concat(
    common_columns("ESTABLISHED, SYN_SENT, SYN_RECV (request sockets included), FIN_WAIT1, FIN_WAIT2, TIME_WAIT, "
                   "CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING; BOUND (bound, not listening) only when asked for"),
    kTimerColumns, kTcpInfoColumns1, kCongestionColumn, kTcpInfoColumns2, kMemoryColumns, kOwnerColumns);
static_assert(kColumns.size() == int{kTcpEnd} + int{kMemoryCount} + kOwnerColumns.size());

class TcpCursor final : public InetCursor {
 public:
  TcpCursor() : InetCursor(IPPROTO_TCP, ScannedTable::Tcp, kColumns, kTcpEnd) {}

 private:
  uint32_t default_states() const override { return kernel::kDefaultTcpStates; }
  std::optional<uint32_t> states_for(std::string_view n) const override { return kernel::tcp_state_mask(n); }
  std::string invalid_state(std::string_view n) const override {
    std::string msg = "invalid state '" + std::string(n) + "' (expected one of " + std::string(kernel::tcp_state_names()) + ")";
    if (n == "NEW_SYN_RECV") msg += "; request sockets are reported as SYN_RECV";
    return msg;
  }
  // The kernel reports bound-inactive sockets (found by its bind-hash walk,
  // which only a BOUND request starts) with state CLOSE.
  std::string_view state_name(int s, uint32_t requested) const override {
    if (s == kernel::kClose && (requested & kernel::state_bit(kernel::kBoundInactive))) return "BOUND";
    return kernel::tcp_state_name(s);
  }

  void protocol_column(int col, Cell& out) override {
    const inet_diag_msg& m = sock_.msg;
    switch (col) {
      case TIMER: {
        static constexpr std::string_view kTimers[] = {"off", "on", "keepalive", "timewait", "probe"};
        return out.text(m.idiag_timer < 5 ? kTimers[m.idiag_timer] : "unknown");
      }
      case TIMER_EXPIRES_MS: return out.integer(m.idiag_expires);
      case RETRANSMITS: return out.integer(m.idiag_retrans);
      case CONGESTION: return out.maybe_text(sock_.attributes().str(INET_DIAG_CONG));
      default: break;
    }
    if (col >= INFO_FIRST && col < CONGESTION) return tcp_info_column(sock_, static_cast<TcpInfo>(col - INFO_FIRST), out);
    if (col >= INFO_SECOND && col < kTcpEnd)
      return tcp_info_column(sock_, static_cast<TcpInfo>(kTcpInfoFirstRun + col - INFO_SECOND), out);
    out.null();
  }
};

}  // namespace

const TableDef kTcpSockets{
    "tcp_sockets",
    "TCP sockets (IPv4 and IPv6) of the network namespace, from netlink sock_diag, with tcp_info.",
    kColumns,
    1000,
    [] { return std::unique_ptr<Cursor>(new TcpCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
