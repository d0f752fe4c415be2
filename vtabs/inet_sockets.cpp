#include "vtabs/inet_sockets.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>

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
  owners_.prepare(q, memory_first_ + kMemoryCount);
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

}  // namespace netsql::vt::inet
