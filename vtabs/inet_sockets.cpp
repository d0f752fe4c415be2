#include "vtabs/inet_sockets.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <cstddef>

#include <tuple>

#include "kernel/rtnl.h"
#include "vtabs/filters.h"

namespace netsql::vt::inet {

void InetCursor::filter(const Query& q) {
  dumps_.reset();  // a scan that stopped early: closing its socket ends its dump
  eof_ = true;
  links_.reset();
  kernel::InetDiagQuery request;
  request.protocol = protocol_;
  auto fams = families(q, FAMILY);

  request.states = default_states();
  if (const auto* v = q.values(STATE))
    request.states = resolve_mask(*v, [this](std::string_view n) { return states_for(n); },
                                  [this](std::string_view n) { return invalid_state(n); });
  q.each(STATE, Op::Ne, [&](const Value& v) {  // state != 'X': the complement
    request.states &= ~resolve_mask({v}, [this](std::string_view n) { return states_for(n); },
                                    [this](std::string_view n) { return invalid_state(n); });
  });
  states_ = request.states;

  bool impossible = request.states == 0 || fams.empty();
  for (auto [col, ports, range] : {std::tuple{LOCAL_PORT, &request.local_ports, &request.local_range},
                                   std::tuple{REMOTE_PORT, &request.remote_ports, &request.remote_range}}) {
    auto allowed = port_range(q, col);
    impossible |= !allowed;
    if (!allowed) continue;
    *range = *allowed;
    if (const auto* v = q.values(col)) {  // the list, cut to the range
      for (uint16_t p : ports_from(*v))
        if (p >= allowed->first && p <= allowed->last) ports->push_back(p);
      impossible |= ports->empty();
    }
  }
  for (auto [col, into, subnets] : {std::tuple{LOCAL_ADDRESS, &request.local_addrs, &request.local_subnets},
                                    std::tuple{REMOTE_ADDRESS, &request.remote_addrs, &request.remote_subnets}}) {
    if (const auto* v = q.values(col)) {
      for (const auto& val : *v)
        if (const std::string* t = val.as_text())
          if (auto h = kernel::parse_host(*t)) into->push_back(*h);
      impossible |= into->empty();
    }
    std::vector<kernel::Prefix>& in = *subnets;
    q.each(col, Op::Function, [&](const Value& v) {  // in_subnet(col, prefix)
      if (auto p = prefix_argument(v)) in.push_back(*p);
      else impossible = true;  // in_subnet(col, NULL) is NULL
    });
  }
  SockDiagScan scan;
  scan.state_mask = request.states;
  if (impossible) {  // no socket can match: ask the kernel nothing
    scan_number_ = begin_scan(table_, scan);
    return;
  }

  unsigned needs = 0;
  for (size_t c = 0; c < columns_.size(); ++c)
    if (q.uses(static_cast<int>(c))) needs |= columns_[c].needs;
  request.extensions = static_cast<uint8_t>(needs);

  kernel::InetDiagFilter bc = kernel::filter_bytecode(request);
  std::vector<kernel::Request> requests;
  for (uint8_t f : fams) {
    request.family = f;
    requests.push_back(kernel::inet_diag_request(request, bc.bytecode));
  }
  scan.extensions = request.extensions;
  scan.bytecode_held = bc.held;
  scan.left_out = bc.left_out;
  scan.bytecode_bytes = static_cast<uint32_t>(bc.bytecode.size());
  scan_number_ = begin_scan(table_, scan);
  // The owners of few rows: the same dumps again, without extensions, list
  // their sockets (a LISTEN-only dump walks just the listening hash).
  request.extensions = 0;
  std::vector<kernel::Request> listing;
  for (uint8_t f : fams) {
    request.family = f;
    listing.push_back(kernel::inet_diag_request(request, bc.bytecode));
  }
  owners_.prepare(q, memory_first_ + kMemoryCount, [netns = q.netns, listing](const auto& visit) {
    kernel::DumpSequence dumps(netns->netlink(NETLINK_SOCK_DIAG), listing);
    kernel::InetSock sock;
    while (const nlmsghdr* m = dumps.next())
      if (kernel::parse_inet_sock(m, sock) && !visit(sock.msg.idiag_inode)) return;
  });
  netns_ = q.netns;
  dumps_.emplace(netns_->netlink(NETLINK_SOCK_DIAG), std::move(requests));
  eof_ = false;
  next();
}

void InetCursor::next() {
  bool row = false;
  while (const nlmsghdr* m = dumps_->next())
    if ((row = kernel::parse_inet_sock(m, sock_))) break;
  scan_progress(table_, scan_number_, dumps_->counters());
  if (row) return;
  dumps_.reset();
  eof_ = true;
}

void InetCursor::interface_column(Cell& out) {
  if (!links_) links_.emplace(*netns_);
  out.text_or_null(links_->name(static_cast<int>(sock_.msg.id.idiag_if)));
}

void InetCursor::column(int col, Cell& out) {
  const inet_diag_msg& m = sock_.msg;
  switch (col) {
    case FAMILY: return out.text(family_name(m.idiag_family));
    case LOCAL_ADDRESS: return out.text(sock_.local_address());
    case LOCAL_PORT: return out.integer(sock_.local_port());
    case REMOTE_ADDRESS: return out.text(sock_.remote_address());
    case REMOTE_PORT: return out.integer(sock_.remote_port());
    case STATE: return out.text(state_name(m.idiag_state, states_));
    case RECV_Q: return out.integer(m.idiag_rqueue);
    case SEND_Q: return out.integer(m.idiag_wqueue);
    case UID: return out.integer(m.idiag_uid);
    case INODE: return out.integer(m.idiag_inode);
    case COOKIE: return out.integer(static_cast<int64_t>(sock_.cookie()));
    case INTERFACE: return interface_column(out);
    default: break;
  }
  if (col >= memory_first_ && col < memory_first_ + kMemoryCount) {
    auto mem = kernel::copy_partial<std::array<uint32_t, SK_MEMINFO_VARS>>(sock_.attributes().raw(INET_DIAG_SKMEMINFO));
    static constexpr int kIndex[kMemoryCount] = {SK_MEMINFO_RMEM_ALLOC, SK_MEMINFO_WMEM_ALLOC, SK_MEMINFO_RCVBUF,
                                                 SK_MEMINFO_SNDBUF, SK_MEMINFO_DROPS};
    int k = kIndex[col - memory_first_];
    if (!mem.has((k + 1) * sizeof(uint32_t))) return out.null();
    return out.integer(mem.value[k]);
  }
  int owner_first = memory_first_ + kMemoryCount;
  if (col >= owner_first && col < owner_first + static_cast<int>(kOwnerColumns.size()))
    return owners_.column(col - owner_first, m.idiag_inode, out);
  protocol_column(col, out);
}

void tcp_info_column(kernel::InetSock& sock, TcpInfo f, Cell& out) {
  const auto& info = sock.tcp_info_attr();
  const tcp_info& t = info.value;
#define FIELD(f, expr) \
  return info.has(offsetof(tcp_info, f) + sizeof(t.f)) ? out.integer(static_cast<int64_t>(expr)) : out.null()
  switch (f) {
    case TcpInfo::RttUs: FIELD(tcpi_rtt, t.tcpi_rtt);
    case TcpInfo::RttvarUs: FIELD(tcpi_rttvar, t.tcpi_rttvar);
    case TcpInfo::RtoMs: FIELD(tcpi_rto, t.tcpi_rto / 1000);
    case TcpInfo::Cwnd: FIELD(tcpi_snd_cwnd, t.tcpi_snd_cwnd);
    case TcpInfo::Ssthresh:
      if (info.has(offsetof(tcp_info, tcpi_snd_ssthresh) + 4) && t.tcpi_snd_ssthresh >= 0x7fffffff) return out.null();
      FIELD(tcpi_snd_ssthresh, t.tcpi_snd_ssthresh);
    case TcpInfo::Mss: FIELD(tcpi_snd_mss, t.tcpi_snd_mss);
    case TcpInfo::Pmtu: FIELD(tcpi_pmtu, t.tcpi_pmtu);
    case TcpInfo::Unacked: FIELD(tcpi_unacked, t.tcpi_unacked);
    case TcpInfo::Lost: FIELD(tcpi_lost, t.tcpi_lost);
    case TcpInfo::RetransTotal: FIELD(tcpi_total_retrans, t.tcpi_total_retrans);
    case TcpInfo::BytesSent: FIELD(tcpi_bytes_sent, t.tcpi_bytes_sent);
    case TcpInfo::BytesAcked: FIELD(tcpi_bytes_acked, t.tcpi_bytes_acked);
    case TcpInfo::BytesReceived: FIELD(tcpi_bytes_received, t.tcpi_bytes_received);
    case TcpInfo::BytesRetrans: FIELD(tcpi_bytes_retrans, t.tcpi_bytes_retrans);
    case TcpInfo::SegsOut: FIELD(tcpi_segs_out, t.tcpi_segs_out);
    case TcpInfo::SegsIn: FIELD(tcpi_segs_in, t.tcpi_segs_in);
    case TcpInfo::DeliveryRateBps: FIELD(tcpi_delivery_rate, t.tcpi_delivery_rate * 8);
    case TcpInfo::PacingRateBps:
      if (info.has(offsetof(tcp_info, tcpi_pacing_rate) + 8) && t.tcpi_pacing_rate == ~uint64_t{0}) return out.null();
      FIELD(tcpi_pacing_rate, t.tcpi_pacing_rate * 8);
    case TcpInfo::LastSendMs: FIELD(tcpi_last_data_sent, t.tcpi_last_data_sent);
    case TcpInfo::LastRecvMs: FIELD(tcpi_last_data_recv, t.tcpi_last_data_recv);
    case TcpInfo::LastAckMs: FIELD(tcpi_last_ack_recv, t.tcpi_last_ack_recv);
    case TcpInfo::BusyMs: FIELD(tcpi_busy_time, t.tcpi_busy_time / 1000);
    default: return out.null();
  }
#undef FIELD
}

}  // namespace netsql::vt::inet
