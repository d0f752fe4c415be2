#include "kernel/sock_diag.h"

#include <arpa/inet.h>
#include <linux/sock_diag.h>

#include <array>
#include <cstring>

namespace netsql::kernel {

namespace {

struct StateName {
  std::string_view name;
  uint32_t mask;
};

constexpr std::array<StateName, 12> kStates{{
    {"ESTABLISHED", state_bit(kEstablished)},
    {"SYN_SENT", state_bit(kSynSent)},
    {"SYN_RECV", state_bit(kSynRecv) | state_bit(kNewSynRecv)},
    {"FIN_WAIT1", state_bit(kFinWait1)},
    {"FIN_WAIT2", state_bit(kFinWait2)},
    {"TIME_WAIT", state_bit(kTimeWait)},
    {"CLOSE", state_bit(kClose)},
    {"CLOSE_WAIT", state_bit(kCloseWait)},
    {"LAST_ACK", state_bit(kLastAck)},
    {"LISTEN", state_bit(kListen)},
    {"CLOSING", state_bit(kClosing)},
    {"BOUND", state_bit(kBoundInactive)},
}};

}  // namespace

std::string_view tcp_state_name(int state) {
  switch (state) {
    case kEstablished: return "ESTABLISHED";
    case kSynSent: return "SYN_SENT";
    case kSynRecv: case kNewSynRecv: return "SYN_RECV";
    case kFinWait1: return "FIN_WAIT1";
    case kFinWait2: return "FIN_WAIT2";
    case kTimeWait: return "TIME_WAIT";
    case kClose: return "CLOSE";
    case kCloseWait: return "CLOSE_WAIT";
    case kLastAck: return "LAST_ACK";
    case kListen: return "LISTEN";
    case kClosing: return "CLOSING";
    case kBoundInactive: return "BOUND";
    default: return "UNKNOWN";
  }
}

std::optional<uint32_t> tcp_state_mask(std::string_view name) {
  for (const auto& s : kStates)
    if (s.name == name) return s.mask;
  return std::nullopt;
}

std::string_view tcp_state_names() {
  return "ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, "
         "LAST_ACK, LISTEN, CLOSING, BOUND";
}

// Bytecode layout, one group per constrained port column, groups ANDed:
//   group = op(p1) JMP op(p2) JMP ... op(pn)
// op(p) is two 4-byte words {S_EQ|D_EQ, yes=8, no}{0, 0, p}. A match falls
// through into the JMP, which always takes its `no` branch to the end of the
// group; a miss goes to the next op, or for the last op past the end of the
// program (len + 4), which rejects the socket. Every jump target lies on the
// chain of `yes` offsets, as the kernel's inet_diag_bc_audit requires.
std::vector<uint8_t> port_filter_bytecode(const std::vector<uint16_t>& local, const std::vector<uint16_t>& remote) {
  struct Group {
    uint8_t code;
    const std::vector<uint16_t>* ports;
  };
  std::vector<Group> groups;
  if (!local.empty()) groups.push_back({INET_DIAG_BC_S_EQ, &local});
  if (!remote.empty()) groups.push_back({INET_DIAG_BC_D_EQ, &remote});
  size_t total = 0;
  for (const auto& g : groups) total += g.ports->size() * 12 - 4;
  std::vector<uint8_t> bc;
  bc.reserve(total);
  auto emit = [&](uint8_t code, uint16_t yes, uint16_t no) {
    inet_diag_bc_op op{code, static_cast<uint8_t>(yes), no};
    size_t at = bc.size();
    bc.resize(at + sizeof op);
    std::memcpy(bc.data() + at, &op, sizeof op);
  };
  for (const auto& g : groups) {
    size_t n = g.ports->size();
    size_t group_end = bc.size() + n * 12 - 4;
    for (size_t i = 0; i < n; ++i) {
      size_t here = bc.size();
      bool last = i + 1 == n;
      uint16_t no = last ? static_cast<uint16_t>(total - here + 4) : 12;
      emit(g.code, 8, no);
      emit(0, 0, (*g.ports)[i]);
      if (!last) emit(INET_DIAG_BC_JMP, 4, static_cast<uint16_t>(group_end - bc.size()));
    }
  }
  return bc;
}

Request inet_diag_request(const InetDiagQuery& q) {
  Request r(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
  inet_diag_req_v2 req{};
  req.sdiag_family = q.family;
  req.sdiag_protocol = q.protocol;
  req.idiag_ext = q.extensions;
  req.idiag_states = q.states;
  r.append(req);
  auto bc = port_filter_bytecode(q.local_ports, q.remote_ports);
  if (!bc.empty()) r.add_attr(INET_DIAG_REQ_BYTECODE, bc.data(), bc.size());
  return r;
}

bool parse_inet_sock(const nlmsghdr* m, InetSock& out) {
  if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY) return false;
  if (m->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return false;
  std::memcpy(&out.msg, NLMSG_DATA(m), sizeof out.msg);
  out.attr_bytes = payload_after(m, sizeof(inet_diag_msg));
  out.attrs_parsed = false;
  return true;
}

uint16_t InetSock::local_port() const { return ntohs(msg.id.idiag_sport); }
uint16_t InetSock::remote_port() const { return ntohs(msg.id.idiag_dport); }
std::string InetSock::local_address() const { return address_text(msg.idiag_family, msg.id.idiag_src); }
std::string InetSock::remote_address() const { return address_text(msg.idiag_family, msg.id.idiag_dst); }

std::string address_text(int family, const void* addr) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, addr, buf, sizeof buf)) return {};
  return buf;
}

}  // namespace netsql::kernel
