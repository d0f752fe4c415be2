#include "kernel/sock_diag.h"

#include <arpa/inet.h>
#include <linux/sock_diag.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <tuple>

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

namespace {

constexpr size_t kOp = sizeof(inet_diag_bc_op);

// A value for a field of a kernel structure, checked to fit it.
template <class T>
T field(size_t v) {
  if (v > std::numeric_limits<T>::max()) throw std::length_error("inet_diag bytecode offset does not fit its field");
  return static_cast<T>(v);
}

size_t addr_len(const HostAddr& h) { return h.family == AF_INET ? 4 : 16; }
Prefix whole(const HostAddr& h) { return {h, static_cast<uint8_t>(addr_len(h) * 8)}; }

// A host test's `yes` (the test's length) is a u8: at most 4 + 8 + 16.
static_assert(kOp + sizeof(inet_diag_hostcond) + 16 <= 0xff);

// Ports `first`..`last` (one port when equal).
using PortRun = PortRange;

struct PortCodes {
  uint8_t eq, ge, le;
};

// One constrained column: its tests are ORed.
struct Group {
  Condition cond{};
  PortCodes port_codes{};
  std::vector<PortRun> runs;
  uint8_t host_code = 0;
  std::vector<Prefix> hosts;
  size_t size = 0;  // bytes, with a JMP after every test but the last
};

// A run from port 0 needs no lower bound, one to 65535 no upper bound (a
// run of every port keeps its always-true lower bound: a test has an op).
bool needs_ge(const PortRun& r) { return r.first != 0 || r.last == 65535; }
bool needs_le(const PortRun& r) { return r.last != 65535; }
size_t test_size(const PortRun& r) {
  return r.first == r.last ? 2 * kOp : 2 * kOp * (size_t{needs_ge(r)} + size_t{needs_le(r)});
}
size_t test_size(const Prefix& p) { return kOp + sizeof(inet_diag_hostcond) + addr_len(p.addr); }

template <class T>
size_t group_size(const std::vector<T>& tests) {
  size_t n = 0;
  for (const auto& t : tests) n += test_size(t) + kOp;
  return n - kOp;
}

// The test of "a port in `ports` (any port when empty) and in `range`";
// no group when that leaves nothing to test.
void add_port_group(std::vector<Group>& groups, Condition cond, PortCodes codes, std::vector<uint16_t> ports,
                    PortRange range) {
  bool listed = !ports.empty();
  std::erase_if(ports, [&](uint16_t p) { return p < range.first || p > range.last; });
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  Group g;
  g.cond = cond;
  g.port_codes = codes;
  for (uint16_t p : ports) {
    if (!g.runs.empty() && g.runs.back().last + 1 == p) g.runs.back().last = p;
    else g.runs.push_back({p, p});
  }
  if (!listed && range != PortRange{}) g.runs.push_back(range);
  if (g.runs.empty()) return;
  g.size = group_size(g.runs);
  groups.push_back(std::move(g));
}

Group host_group(Condition cond, uint8_t code, std::vector<Prefix> hosts) {
  auto cmp = [](const Prefix& a, const Prefix& b) {
    if (a.addr.family != b.addr.family) return a.addr.family - b.addr.family;
    if (a.len != b.len) return a.len - b.len;
    return std::memcmp(a.addr.bytes, b.addr.bytes, sizeof a.addr.bytes);
  };
  std::sort(hosts.begin(), hosts.end(), [&](const Prefix& a, const Prefix& b) { return cmp(a, b) < 0; });
  hosts.erase(std::unique(hosts.begin(), hosts.end(), [&](const Prefix& a, const Prefix& b) { return cmp(a, b) == 0; }),
              hosts.end());
  Group g;
  g.cond = cond;
  g.host_code = code;
  g.hosts = std::move(hosts);
  g.size = group_size(g.hosts);
  return g;
}

// Appends bytecode, every jump given as the absolute position it lands on.
class Writer {
 public:
  std::vector<uint8_t> bc;

  // An op whose `yes` skips `yes` bytes and whose `no` lands on `no_at`.
  void op(uint8_t code, size_t yes, size_t no_at) { put(code, field<uint8_t>(yes), field<uint16_t>(no_at - bc.size())); }
  // The data word after a port comparison: the port in `no`.
  void port(uint16_t p) { put(0, 0, p); }
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bc.insert(bc.end(), b, b + n);
  }

  void test(const Group& g, const PortRun& r, size_t fail_at) {
    if (r.first == r.last) {  // {EQ, 8, fail}{port}
      op(g.port_codes.eq, 2 * kOp, fail_at);
      port(r.first);
      return;
    }
    if (needs_ge(r)) {  // {GE, 8, fail}{first}
      op(g.port_codes.ge, 2 * kOp, fail_at);
      port(r.first);
    }
    if (needs_le(r)) {  // {LE, 8, fail}{last}
      op(g.port_codes.le, 2 * kOp, fail_at);
      port(r.last);
    }
  }
  void test(const Group& g, const Prefix& p, size_t fail_at) {  // {COND, len, fail}{family, prefix, any port}{address}
    op(g.host_code, test_size(p), fail_at);
    inet_diag_hostcond c{};
    c.family = p.addr.family;
    c.prefix_len = p.len;
    c.port = -1;
    bytes(&c, sizeof c);
    bytes(p.addr.bytes, addr_len(p.addr));
  }

  // test1 JMP test2 JMP ... testN. A test that matches falls through into
  // its JMP, which always takes its `no` branch to the end of the group; a
  // test that fails goes on to the next test, or for the last one to
  // `reject_at`.
  template <class T>
  void group(const Group& g, const std::vector<T>& tests, size_t reject_at) {
    size_t end = bc.size() + g.size;
    for (size_t i = 0; i < tests.size(); ++i) {
      bool last = i + 1 == tests.size();
      test(g, tests[i], last ? reject_at : bc.size() + test_size(tests[i]) + kOp);
      if (!last) op(INET_DIAG_BC_JMP, kOp, end);
    }
  }

 private:
  void put(uint8_t code, uint8_t yes, uint16_t no) {
    inet_diag_bc_op o{code, yes, no};
    bytes(&o, sizeof o);
  }
};

}  // namespace

// Layout: one group per constrained column, groups ANDed (a socket that
// passes one group falls through into the next). A failed group jumps past
// the end of the program (its length + 4), which rejects the socket. Every
// jump lands on the chain of `yes` offsets, as the kernel's
// inet_diag_bc_audit requires.
//
// Longer than the budget: whole conditions are left out rather than split
// over several dumps. Leaving out an ANDed condition only widens the
// filter, and SQLite re-checks every row, so results stay exact with one
// dump per family. Splitting would walk the socket tables once per chunk
// and still run every chunk's chain on every socket, which costs more than
// it saves (see kBytecodeBudget).
InetDiagFilter filter_bytecode(const InetDiagQuery& q, size_t budget) {
  budget = std::min(budget, kMaxBytecode);
  std::vector<Group> groups;
  add_port_group(groups, kLocalPorts, {INET_DIAG_BC_S_EQ, INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE}, q.local_ports,
                 q.local_range);
  add_port_group(groups, kRemotePorts, {INET_DIAG_BC_D_EQ, INET_DIAG_BC_D_GE, INET_DIAG_BC_D_LE}, q.remote_ports,
                 q.remote_range);
  for (auto [cond, code, list, subnets] : {std::tuple{kLocalAddrs, INET_DIAG_BC_S_COND, &q.local_addrs, &q.local_subnets},
                                           std::tuple{kRemoteAddrs, INET_DIAG_BC_D_COND, &q.remote_addrs, &q.remote_subnets}}) {
    std::vector<Prefix> any;
    for (const HostAddr& h : *list) any.push_back(whole(h));
    if (!any.empty()) groups.push_back(host_group(cond, static_cast<uint8_t>(code), std::move(any)));
    for (const Prefix& p : *subnets) groups.push_back(host_group(cond, static_cast<uint8_t>(code), {p}));
  }

  InetDiagFilter f;
  auto total = [&] {
    size_t n = 0;
    for (const auto& g : groups) n += g.size;
    return n;
  };
  while (total() > budget) {
    auto longest = std::max_element(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.size < b.size; });
    f.left_out |= longest->cond;
    groups.erase(longest);
  }
  size_t reject_at = total() + kOp;
  Writer w;
  w.bc.reserve(total());
  for (const auto& g : groups) {
    f.held |= g.cond;
    if (g.hosts.empty()) w.group(g, g.runs, reject_at);
    else w.group(g, g.hosts, reject_at);
  }
  if (w.bc.size() + kOp != reject_at) throw std::logic_error("inet_diag bytecode length miscounted");
  f.bytecode = std::move(w.bc);
  return f;
}

Request inet_diag_request(const InetDiagQuery& q, const std::vector<uint8_t>& bytecode) {
  Request r(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
  inet_diag_req_v2 req{};
  req.sdiag_family = q.family;
  req.sdiag_protocol = q.protocol;
  req.idiag_ext = q.extensions;
  req.idiag_states = q.states;
  r.append(req);
  if (!bytecode.empty()) r.add_attr(INET_DIAG_REQ_BYTECODE, bytecode.data(), bytecode.size());
  return r;
}

bool parse_inet_sock(const nlmsghdr* m, InetSock& out) {
  if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY) return false;
  if (m->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return false;
  std::memcpy(&out.msg, NLMSG_DATA(m), sizeof out.msg);
  out.attr_bytes = payload_after(m, sizeof(inet_diag_msg));
  out.attrs_parsed = out.info_copied = false;
  return true;
}

uint16_t InetSock::local_port() const { return ntohs(msg.id.idiag_sport); }
uint16_t InetSock::remote_port() const { return ntohs(msg.id.idiag_dport); }
std::string InetSock::local_address() const { return address_text(msg.idiag_family, msg.id.idiag_src); }
std::string InetSock::remote_address() const { return address_text(msg.idiag_family, msg.id.idiag_dst); }

std::string address_text(int family, const void* addr) {
  if (family == AF_INET) {  // inet_ntop prints IPv4 with sprintf: a tenth of SELECT * FROM routes
    const auto* b = static_cast<const uint8_t*>(addr);
    char buf[INET_ADDRSTRLEN];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      p = std::to_chars(p, buf + sizeof buf, b[i]).ptr;
    }
    return std::string(buf, p);
  }
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, addr, buf, sizeof buf)) return {};
  return buf;
}

}  // namespace netsql::kernel
