// tcp_sockets: every TCP socket of the namespace, from sock_diag, with
// tcp_info, congestion control and socket memory fetched only when a query
// reads those columns.
#include <linux/tcp.h>

#include <cstddef>

#include "vtabs/inet_sockets.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

using namespace inet;

enum Tcp {
  TIMER = kCommonCount, TIMER_EXPIRES_MS, RETRANSMITS,
  RTT_US, RTTVAR_US, RTO_MS, CWND, SSTHRESH, MSS, PMTU, UNACKED, LOST, RETRANS_TOTAL,
  BYTES_SENT, BYTES_ACKED, BYTES_RECEIVED, BYTES_RETRANS, SEGS_OUT, SEGS_IN,
  DELIVERY_RATE_BPS, PACING_RATE_BPS, CONGESTION, LAST_SEND_MS, LAST_RECV_MS, LAST_ACK_MS, BUSY_MS,
  kTcpEnd
};

constexpr std::array<Column, int{kTcpEnd} - int{kCommonCount}> kTcpColumns{{
    {"timer", Type::Text, "pending timer: off, on (retransmit), keepalive, timewait, probe (zero window)"},
    {"timer_expires_ms", Type::Integer, "milliseconds until the timer fires"},
    {"retransmits", Type::Integer, "retransmissions of the timer's current round (or keepalive probes sent)"},
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
    needing(kCongestion, {"congestion", Type::Text, "congestion control algorithm (cubic, bbr, ...)"}),
    needing(kTcpInfo, {"last_send_ms", Type::Integer, "milliseconds since data was last sent"}),
    needing(kTcpInfo, {"last_recv_ms", Type::Integer, "milliseconds since data was last received"}),
    needing(kTcpInfo, {"last_ack_ms", Type::Integer, "milliseconds since an ACK was last received"}),
    needing(kTcpInfo, {"busy_ms", Type::Integer, "milliseconds spent with data in flight"}),
}};

constexpr auto kColumns = concat(
    common_columns("ESTABLISHED, SYN_SENT, SYN_RECV (request sockets included), FIN_WAIT1, FIN_WAIT2, TIME_WAIT, "
                   "CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING; BOUND (bound, not listening) only when asked for"),
    kTcpColumns, kMemoryColumns, kOwnerColumns);

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
    auto info = kernel::copy_partial<tcp_info>(sock_.attributes().raw(INET_DIAG_INFO));
    const tcp_info& t = info.value;
    // Each field is NULL when this kernel's tcp_info is too short to hold it.
#define FIELD(f, expr) \
  return info.has(offsetof(tcp_info, f) + sizeof(t.f)) ? out.integer(static_cast<int64_t>(expr)) : out.null()
    switch (col) {
      case RTT_US: FIELD(tcpi_rtt, t.tcpi_rtt);
      case RTTVAR_US: FIELD(tcpi_rttvar, t.tcpi_rttvar);
      case RTO_MS: FIELD(tcpi_rto, t.tcpi_rto / 1000);
      case CWND: FIELD(tcpi_snd_cwnd, t.tcpi_snd_cwnd);
      case SSTHRESH:
        if (info.has(offsetof(tcp_info, tcpi_snd_ssthresh) + 4) && t.tcpi_snd_ssthresh >= 0x7fffffff) return out.null();
        FIELD(tcpi_snd_ssthresh, t.tcpi_snd_ssthresh);
      case MSS: FIELD(tcpi_snd_mss, t.tcpi_snd_mss);
      case PMTU: FIELD(tcpi_pmtu, t.tcpi_pmtu);
      case UNACKED: FIELD(tcpi_unacked, t.tcpi_unacked);
      case LOST: FIELD(tcpi_lost, t.tcpi_lost);
      case RETRANS_TOTAL: FIELD(tcpi_total_retrans, t.tcpi_total_retrans);
      case BYTES_SENT: FIELD(tcpi_bytes_sent, t.tcpi_bytes_sent);
      case BYTES_ACKED: FIELD(tcpi_bytes_acked, t.tcpi_bytes_acked);
      case BYTES_RECEIVED: FIELD(tcpi_bytes_received, t.tcpi_bytes_received);
      case BYTES_RETRANS: FIELD(tcpi_bytes_retrans, t.tcpi_bytes_retrans);
      case SEGS_OUT: FIELD(tcpi_segs_out, t.tcpi_segs_out);
      case SEGS_IN: FIELD(tcpi_segs_in, t.tcpi_segs_in);
      case DELIVERY_RATE_BPS: FIELD(tcpi_delivery_rate, t.tcpi_delivery_rate * 8);
      case PACING_RATE_BPS:
        if (info.has(offsetof(tcp_info, tcpi_pacing_rate) + 8) && t.tcpi_pacing_rate == ~uint64_t{0}) return out.null();
        FIELD(tcpi_pacing_rate, t.tcpi_pacing_rate * 8);
      case LAST_SEND_MS: FIELD(tcpi_last_data_sent, t.tcpi_last_data_sent);
      case LAST_RECV_MS: FIELD(tcpi_last_data_recv, t.tcpi_last_data_recv);
      case LAST_ACK_MS: FIELD(tcpi_last_ack_recv, t.tcpi_last_ack_recv);
      case BUSY_MS: FIELD(tcpi_busy_time, t.tcpi_busy_time / 1000);
      default: return out.null();
    }
#undef FIELD
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
