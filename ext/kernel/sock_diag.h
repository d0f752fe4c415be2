// sock_diag for inet sockets (TCP, UDP): requests, kernel-side bytecode
// filters and reply parsing. Part of the kernel layer: no SQLite here.
#pragma once

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/tcp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/attrs.h"
#include "kernel/cidr.h"
#include "kernel/netlink.h"

namespace netsql::kernel {

// Kernel socket states (include/net/tcp_states.h). 12 and 13 are newer than
// some uapi headers, so we name them ourselves.
enum TcpState : uint8_t {
  kEstablished = 1, kSynSent, kSynRecv, kFinWait1, kFinWait2, kTimeWait, kClose,
  kCloseWait, kLastAck, kListen, kClosing, kNewSynRecv, kBoundInactive,
};
constexpr uint32_t state_bit(int s) { return 1u << s; }
// Every state a plain dump asks for: all but TCP_BOUND_INACTIVE, which makes
// the kernel walk the bind hash as well (ss asks for it only with -B).
constexpr uint32_t kDefaultTcpStates = ((1u << 13) - 1) & ~1u;

// The netstat spelling of a kernel state. Request sockets (NEW_SYN_RECV) are
// SYN_RECV, as netstat, ss and psutil show them; 13 is BOUND.
std::string_view tcp_state_name(int state);
// The state mask a state name asks the kernel for (SYN_RECV covers request
// sockets too); nullopt for a name we do not know.
std::optional<uint32_t> tcp_state_mask(std::string_view name);
// All the names tcp_state_mask accepts, comma separated, for error messages.
std::string_view tcp_state_names();

// Ports first..last, both included.
struct PortRange {
  uint16_t first = 0, last = 65535;
  bool operator==(const PortRange&) const = default;
};

// What to ask sock_diag for.
struct InetDiagQuery {
  uint8_t family = 0;        // AF_INET or AF_INET6
  uint8_t protocol = 0;      // IPPROTO_TCP, IPPROTO_UDP
  uint32_t states = ~0u;     // mask of 1 << state
  uint8_t extensions = 0;    // mask of 1 << (INET_DIAG_x - 1)
  std::vector<uint16_t> local_ports;   // any of these (empty: any port)
  std::vector<uint16_t> remote_ports;  // any of these (empty: any port)
  PortRange local_range, remote_range;  // and within these (sport > :1024)
  std::vector<HostAddr> local_addrs;   // any of these (empty: any address)
  std::vector<HostAddr> remote_addrs;  // any of these (empty: any address)
  std::vector<Prefix> local_subnets;   // in every one of these (src 10.0.0.0/8)
  std::vector<Prefix> remote_subnets;  // in every one of these (dst 10.0.0.0/8)
};

// The conditions of an InetDiagQuery, as bits, by column: ports (lists and
// ranges), addresses (lists and subnets).
enum Condition : uint8_t { kLocalPorts = 1, kRemotePorts = 2, kLocalAddrs = 4, kRemoteAddrs = 8 };

// The most bytecode one request can carry: INET_DIAG_REQ_BYTECODE's nla_len
// (u16) counts the 4-byte attribute header too, a jump (`no`, u16) may
// point 4 bytes past the end, and ops are 4-byte aligned.
inline constexpr size_t kMaxBytecode = (0xffff - NLA_HDRLEN) & ~size_t{3};

// The most bytecode netsql sends (341 single ports, 204 IPv4 or 128 IPv6
// addresses). The kernel runs the OR chain on every socket and audits
// each jump by walking from the program's start, so a long filter costs
// more than sending every socket for SQLite to check against its IN list:
// with 18,000 sockets, 1,000 ports in the kernel took 168 ms against 87 ms
// in SQLite, 5,000 ports 768 ms against 98 ms; 100 ports 54 against 96.
inline constexpr size_t kBytecodeBudget = 4096;

// A kernel-side filter for a query. It may be weaker than the query, never
// stronger: a condition left out is not checked by the kernel at all.
struct InetDiagFilter {
  std::vector<uint8_t> bytecode;  // empty: no filter
  uint8_t held = 0;               // Condition bits the bytecode checks
  uint8_t left_out = 0;           // Condition bits too long to fit `budget`
};

// The inet_diag bytecode for "local port in LP and in the local range, and
// remote port in RP and in the remote range, and local address in LA and
// in every local subnet, and remote address in RA and in every remote
// subnet" (an empty list or a full range: no condition). A port list is
// cut to its range (a list the range leaves empty is no condition: the
// caller finds that no socket can match); runs of consecutive ports become
// one range test; duplicates drop out. When the program would exceed `budget` bytes (at most
// kMaxBytecode), whole conditions are left out, longest first, until it
// fits: the caller must check every condition itself (SQLite does).
InetDiagFilter filter_bytecode(const InetDiagQuery& q, size_t budget = kBytecodeBudget);

// A dump request for q (family, protocol, states, extensions) carrying
// `bytecode`, a filter_bytecode program.
Request inet_diag_request(const InetDiagQuery& q, const std::vector<uint8_t>& bytecode);

// One reply: the fixed message plus its attributes (parsed on demand).
struct InetSock {
  inet_diag_msg msg;
  Bytes attr_bytes;
  AttrTable<INET_DIAG_MAX + 1> attrs;
  bool attrs_parsed = false;
  Partial<tcp_info> info;
  bool info_copied = false;

  const AttrTable<INET_DIAG_MAX + 1>& attributes() {
    if (!attrs_parsed) {
      attrs.parse(attr_bytes);
      attrs_parsed = true;
    }
    return attrs;
  }
  // INET_DIAG_INFO (tcp_info) as far as the kernel sent it: copied once
  // per message, not once per column read.
  const Partial<tcp_info>& tcp_info_attr() {
    if (!info_copied) {
      info = copy_partial<tcp_info>(attributes().raw(INET_DIAG_INFO));
      info_copied = true;
    }
    return info;
  }
  uint64_t cookie() const { return msg.id.idiag_cookie[0] | (uint64_t{msg.id.idiag_cookie[1]} << 32); }
  uint16_t local_port() const;
  uint16_t remote_port() const;
  std::string local_address() const;
  std::string remote_address() const;
};

// Parses a SOCK_DIAG_BY_FAMILY reply. False if the message is too short or
// of another type.
bool parse_inet_sock(const nlmsghdr* m, InetSock& out);

// Canonical text (inet_ntop) of a 4- or 16-byte address.
std::string address_text(int family, const void* addr);

}  // namespace netsql::kernel
