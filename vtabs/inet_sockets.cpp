#include "vtabs/inet_sockets.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "kernel/rtnl.h"
#include "vtabs/filters.h"

namespace netsql::vt::inet {

void InetCursor::filter(const Query& q) {
  if (dump_) {  // the last scan stopped early: its dump still runs on diag_
    dump_.reset();
    diag_.reset();
  }
  eof_ = true;
  family_at_ = 0;
  request_ = {};
  request_.protocol = protocol_;
  families_ = families(q, FAMILY);

  request_.states = default_states();
  if (const auto* v = q.values(STATE))
    request_.states = resolve_mask(*v, [this](std::string_view n) { return states_for(n); },
                                   [this](std::string_view n) { return invalid_state(n); });

  bool impossible = request_.states == 0 || families_.empty();
  if (const auto* v = q.values(LOCAL_PORT)) {
    request_.local_ports = ports_from(*v);
    impossible |= request_.local_ports.empty();
  }
  if (const auto* v = q.values(REMOTE_PORT)) {
    request_.remote_ports = ports_from(*v);
    impossible |= request_.remote_ports.empty();
  }
  if (impossible) return;  // no socket can match: ask the kernel nothing

  request_.extensions = extensions(q);
  if (q.uses_any(memory_first_, memory_first_ + kMemoryCount))
    request_.extensions |= 1 << (INET_DIAG_SKMEMINFO - 1);

  if (!diag_) diag_.emplace(NETLINK_SOCK_DIAG);
  eof_ = false;
  start_dump();
  next();
}

void InetCursor::start_dump() {
  request_.family = families_[family_at_];
  kernel::Request req = kernel::inet_diag_request(request_);
  dump_.emplace(*diag_, req);
}

void InetCursor::next() {
  for (;;) {
    const nlmsghdr* m = dump_->next();
    if (!m) {
      dump_.reset();
      if (++family_at_ >= families_.size()) {
        eof_ = true;
        return;
      }
      start_dump();
      continue;
    }
    if (kernel::parse_inet_sock(m, sock_)) return;
  }
}

void InetCursor::interface_column(Cell& out) {
  uint32_t index = sock_.msg.id.idiag_if;
  if (index == 0) return out.null();
  if (!links_) {
    kernel::NetlinkSocket rtnl = kernel::rtnl_socket();
    links_ = kernel::link_names(rtnl);
  }
  auto it = links_->find(index);
  if (it == links_->end()) return out.text(std::to_string(index));
  out.text(it->second);
}

void InetCursor::column(int col, Cell& out) {
  const inet_diag_msg& m = sock_.msg;
  switch (col) {
    case FAMILY: return out.text(family_name(m.idiag_family));
    case LOCAL_ADDRESS: return out.text(sock_.local_address());
    case LOCAL_PORT: return out.integer(sock_.local_port());
    case REMOTE_ADDRESS: return out.text(sock_.remote_address());
    case REMOTE_PORT: return out.integer(sock_.remote_port());
    case STATE: return out.text(state_name(m.idiag_state, request_.states));
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
  protocol_column(col, out);
}

}  // namespace netsql::vt::inet
