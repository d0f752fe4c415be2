// The sock_diag filter builder (kernel::filter_bytecode) over arbitrary
// queries: port lists and ranges, address lists and subnets, any budget.
// Every program must pass the checks of the kernel's inet_diag_bc_audit,
// fit its budget, and, run as the kernel's inet_diag_bc_run runs it, accept
// every socket the query matches (a filter may be weaker, never stronger)
// and reject every socket that fails a condition it claims to hold.
#include <fuzzer/FuzzedDataProvider.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz.h"
#include "kernel/sock_diag.h"

using namespace netsql::kernel;

namespace {

constexpr size_t kOp = sizeof(inet_diag_bc_op);

inet_diag_bc_op op_at(const std::vector<uint8_t>& bc, size_t at) {
  inet_diag_bc_op op;
  std::memcpy(&op, bc.data() + at, kOp);
  return op;
}

// The kernel's valid_cc: `cc` bytes before the end lies on the chain of
// `yes` offsets from the start.
bool valid_cc(const std::vector<uint8_t>& bc, int cc) {
  int len = static_cast<int>(bc.size());
  size_t at = 0;
  while (len >= 0) {
    if (cc > len) return false;
    if (cc == len) return true;
    inet_diag_bc_op op = op_at(bc, at);
    if (op.yes < 4 || (op.yes & 3)) return false;
    len -= op.yes;
    at += op.yes;
  }
  return false;
}

// The kernel's inet_diag_bc_audit, for the ops filter_bytecode writes.
bool audit(const std::vector<uint8_t>& bc) {
  int len = static_cast<int>(bc.size());
  size_t at = 0;
  while (len > 0) {
    if (len < static_cast<int>(kOp)) return false;
    inet_diag_bc_op op = op_at(bc, at);
    int min_len = kOp;
    switch (op.code) {
      case INET_DIAG_BC_S_COND:
      case INET_DIAG_BC_D_COND: {
        min_len += sizeof(inet_diag_hostcond);
        if (len < min_len) return false;
        inet_diag_hostcond c;
        std::memcpy(&c, bc.data() + at + kOp, sizeof c);
        int addr_len = c.family == AF_INET ? 4 : c.family == AF_INET6 ? 16 : -1;
        if (addr_len < 0) return false;
        min_len += addr_len;
        if (len < min_len || c.prefix_len > 8 * addr_len) return false;
        break;
      }
      case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE:
      case INET_DIAG_BC_D_EQ: case INET_DIAG_BC_D_GE: case INET_DIAG_BC_D_LE:
        min_len += kOp;
        if (len < min_len) return false;
        break;
      case INET_DIAG_BC_JMP: break;
      default: return false;
    }
    if (op.no < min_len || op.no > len + 4 || (op.no & 3)) return false;
    if (op.no < len && !valid_cc(bc, len - op.no)) return false;
    if (op.yes < min_len || op.yes > len + 4 || (op.yes & 3)) return false;
    at += op.yes;
    len -= op.yes;
  }
  return len == 0;
}

struct Sock {
  uint16_t sport, dport;
  HostAddr src, dst;  // same family
};

// The kernel's inet_diag_bc_run on one socket.
bool run(const std::vector<uint8_t>& bc, const Sock& s) {
  int len = static_cast<int>(bc.size());
  size_t at = 0;
  while (len > 0) {
    inet_diag_bc_op op = op_at(bc, at);
    bool yes = true;
    switch (op.code) {
      case INET_DIAG_BC_JMP: yes = false; break;
      case INET_DIAG_BC_S_EQ: yes = s.sport == op_at(bc, at + kOp).no; break;
      case INET_DIAG_BC_S_GE: yes = s.sport >= op_at(bc, at + kOp).no; break;
      case INET_DIAG_BC_S_LE: yes = s.sport <= op_at(bc, at + kOp).no; break;
      case INET_DIAG_BC_D_EQ: yes = s.dport == op_at(bc, at + kOp).no; break;
      case INET_DIAG_BC_D_GE: yes = s.dport >= op_at(bc, at + kOp).no; break;
      case INET_DIAG_BC_D_LE: yes = s.dport <= op_at(bc, at + kOp).no; break;
      case INET_DIAG_BC_S_COND:
      case INET_DIAG_BC_D_COND: {
        inet_diag_hostcond c;
        std::memcpy(&c, bc.data() + at + kOp, sizeof c);
        Prefix p;
        p.addr.family = c.family;
        p.len = c.prefix_len;
        std::memcpy(p.addr.bytes, bc.data() + at + kOp + sizeof c, c.family == AF_INET ? 4 : 16);
        FUZZ_CHECK(c.port == -1);
        yes = prefix_contains(p, op.code == INET_DIAG_BC_S_COND ? s.src : s.dst);
        break;
      }
      default: FUZZ_CHECK(!"an op filter_bytecode never writes");
    }
    int step = yes ? op.yes : op.no;
    at += step;
    len -= step;
  }
  return len == 0;
}

bool port_ok(uint16_t p, const std::vector<uint16_t>& list, PortRange r) {
  return (list.empty() || std::find(list.begin(), list.end(), p) != list.end()) && p >= r.first && p <= r.last;
}
bool addr_ok(const HostAddr& a, const std::vector<HostAddr>& list, const std::vector<Prefix>& subnets) {
  bool any = list.empty();
  for (const HostAddr& h : list) any |= prefix_contains({h, static_cast<uint8_t>(h.family == AF_INET ? 32 : 128)}, a);
  for (const Prefix& p : subnets) any &= prefix_contains(p, a);
  return any;
}

HostAddr host(FuzzedDataProvider& in, bool v6) {
  HostAddr h;
  h.family = v6 ? AF_INET6 : AF_INET;
  auto b = in.ConsumeBytes<uint8_t>(v6 ? 16 : 4);
  std::copy(b.begin(), b.end(), h.bytes);
  if (v6 && in.ConsumeBool()) {  // often IPv4-mapped
    std::memset(h.bytes, 0, 10);
    h.bytes[10] = h.bytes[11] = 0xff;
  }
  return h;
}

PortRange range(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) return {};
  return {in.ConsumeIntegral<uint16_t>(), in.ConsumeIntegral<uint16_t>()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  InetDiagQuery q;
  size_t budget = in.ConsumeBool() ? kBytecodeBudget : in.ConsumeIntegralInRange<size_t>(0, 2 * kMaxBytecode);
  for (auto* ports : {&q.local_ports, &q.remote_ports}) {
    size_t n = in.ConsumeIntegralInRange<size_t>(0, in.ConsumeBool() ? 8 : 6000);
    for (size_t i = 0; i < n && in.remaining_bytes(); ++i) ports->push_back(in.ConsumeIntegral<uint16_t>());
  }
  q.local_range = range(in);
  q.remote_range = range(in);
  for (auto* addrs : {&q.local_addrs, &q.remote_addrs}) {
    size_t n = in.ConsumeIntegralInRange<size_t>(0, 300);
    for (size_t i = 0; i < n && in.remaining_bytes(); ++i) addrs->push_back(host(in, in.ConsumeBool()));
  }
  for (auto* subnets : {&q.local_subnets, &q.remote_subnets}) {
    size_t n = in.ConsumeIntegralInRange<size_t>(0, 4);
    for (size_t i = 0; i < n; ++i) {
      bool v6 = in.ConsumeBool();
      subnets->push_back({host(in, v6), in.ConsumeIntegralInRange<uint8_t>(0, v6 ? 128 : 32)});
    }
  }
  InetDiagFilter f = filter_bytecode(q, budget);
  FUZZ_CHECK(f.bytecode.size() <= std::min(budget, kMaxBytecode));
  FUZZ_CHECK(f.bytecode.size() % 4 == 0);
  FUZZ_CHECK(audit(f.bytecode));

  while (in.remaining_bytes()) {
    Sock s;
    bool v6 = in.ConsumeBool();
    // Ports and addresses from the query's own lists, so that sockets match.
    auto pick_port = [&](const std::vector<uint16_t>& l) {
      return !l.empty() && in.ConsumeBool() ? l[in.ConsumeIntegralInRange<size_t>(0, l.size() - 1)]
                                            : in.ConsumeIntegral<uint16_t>();
    };
    s.sport = pick_port(q.local_ports);
    s.dport = pick_port(q.remote_ports);
    s.src = host(in, v6);
    s.dst = host(in, v6);
    bool ports = port_ok(s.sport, q.local_ports, q.local_range) && port_ok(s.dport, q.remote_ports, q.remote_range);
    bool local = addr_ok(s.src, q.local_addrs, q.local_subnets);
    bool remote = addr_ok(s.dst, q.remote_addrs, q.remote_subnets);
    bool accepted = run(f.bytecode, s);
    if (ports && local && remote) FUZZ_CHECK(accepted);  // never stronger than the query
    if (!accepted) continue;
    uint8_t exact = f.held & ~f.left_out;  // conditions wholly in the program
    if (exact & kLocalPorts) FUZZ_CHECK(port_ok(s.sport, q.local_ports, q.local_range));
    if (exact & kRemotePorts) FUZZ_CHECK(port_ok(s.dport, q.remote_ports, q.remote_range));
    if (exact & kLocalAddrs) FUZZ_CHECK(local);
    if (exact & kRemoteAddrs) FUZZ_CHECK(remote);
  }
  return 0;
}
