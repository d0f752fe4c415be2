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

std::optional<HostAddr> parse_host(const std::string& s) {
  HostAddr h;
  if (inet_pton(AF_INET, s.c_str(), h.bytes) == 1) {
    h.family = AF_INET;
    return h;
  }
  if (inet_pton(AF_INET6, s.c_str(), h.bytes) == 1) {
    h.family = AF_INET6;
    return h;
  }
  return std::nullopt;
}

namespace {

void put_op(std::vector<uint8_t>& bc, uint8_t code, uint8_t yes, uint16_t no) {
  inet_diag_bc_op op{code, yes, no};
  size_t at = bc.size();
  bc.resize(at + sizeof op);
  std::memcpy(bc.data() + at, &op, sizeof op);
}

// One test, its `no` jump left for the layout to fill in: a port
// comparison {S_EQ|D_EQ, 8, no}{0, 0, port}, or a host condition
// {S_COND|D_COND, len, no}{family, prefix, port -1}{address}.
std::vector<uint8_t> port_test(uint8_t code, uint16_t port) {
  std::vector<uint8_t> t;
  put_op(t, code, 8, 0);
  put_op(t, 0, 0, port);
  return t;
}

std::vector<uint8_t> host_test(uint8_t code, const HostAddr& h) {
  size_t alen = h.family == AF_INET ? 4 : 16;
  std::vector<uint8_t> t;
  put_op(t, code, static_cast<uint8_t>(sizeof(inet_diag_bc_op) + sizeof(inet_diag_hostcond) + alen), 0);
  inet_diag_hostcond c{};
  c.family = h.family;
  c.prefix_len = static_cast<uint8_t>(alen * 8);
  c.port = -1;
  size_t at = t.size();
  t.resize(at + sizeof c + alen);
  std::memcpy(t.data() + at, &c, sizeof c);
  std::memcpy(t.data() + at + sizeof c, h.bytes, alen);
  return t;
}

}  // namespace

// Layout: one group per constrained column, groups ANDed; in a group the
// tests are ORed:  test1 JMP test2 JMP ... testN.
// A test that matches falls through into its JMP, which always takes its
// `no` branch to the end of the group; a test that fails goes to the next
// test, or for the last one past the end of the program (len + 4), which
// rejects the socket. Every jump lands on the chain of `yes` offsets, as
// the kernel's inet_diag_bc_audit requires.
std::vector<uint8_t> filter_bytecode(const InetDiagQuery& q) {
  std::vector<std::vector<std::vector<uint8_t>>> groups;
  auto add_ports = [&](uint8_t code, const std::vector<uint16_t>& ports) {
    if (ports.empty()) return;
    auto& g = groups.emplace_back();
    for (uint16_t p : ports) g.push_back(port_test(code, p));
  };
  auto add_hosts = [&](uint8_t code, const std::vector<HostAddr>& hosts) {
    if (hosts.empty()) return;
    auto& g = groups.emplace_back();
    for (const auto& h : hosts) g.push_back(host_test(code, h));
  };
  add_ports(INET_DIAG_BC_S_EQ, q.local_ports);
  add_ports(INET_DIAG_BC_D_EQ, q.remote_ports);
  add_hosts(INET_DIAG_BC_S_COND, q.local_addrs);
  add_hosts(INET_DIAG_BC_D_COND, q.remote_addrs);
  size_t total = 0;
  for (const auto& g : groups) {
    for (const auto& t : g) total += t.size() + 4;
    total -= 4;  // no JMP after a group's last test
  }
  std::vector<uint8_t> bc;
  bc.reserve(total);
  for (const auto& g : groups) {
    size_t group_end = bc.size();
    for (const auto& t : g) group_end += t.size() + 4;
    group_end -= 4;
    for (size_t i = 0; i < g.size(); ++i) {
      size_t here = bc.size();
      bool last = i + 1 == g.size();
      bc.insert(bc.end(), g[i].begin(), g[i].end());
      uint16_t no = static_cast<uint16_t>(last ? total - here + 4 : g[i].size() + 4);
      std::memcpy(bc.data() + here + offsetof(inet_diag_bc_op, no), &no, sizeof no);
      if (!last) put_op(bc, INET_DIAG_BC_JMP, 4, static_cast<uint16_t>(group_end - bc.size()));
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
  auto bc = filter_bytecode(q);
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
