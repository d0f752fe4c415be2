// sock_diag for netlink sockets (NETLINK_DIAG, ss -A netlink): which
// process listens to which kernel subsystem, on which multicast groups.
// Part of the kernel layer: no SQLite here.
#pragma once

#include <linux/netlink_diag.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kernel/netlink.h"
#include "kernel/sock_meminfo.h"

namespace netsql::kernel {

// A dump of the netlink sockets of `protocol` (NETLINK_ROUTE, ...;
// NDIAG_PROTO_ALL: every protocol) with their groups, flags and queues.
Request netlink_diag_request(uint8_t protocol);

struct NetlinkSock {
  uint8_t protocol = 0;  // NETLINK_ROUTE, NETLINK_GENERIC, ...
  uint8_t state = 0;     // sk_state: 1 (NETLINK_CONNECTED) when connected, else 7 (TCP_CLOSE)
  uint32_t portid = 0, dst_portid = 0, dst_group = 0;
  uint64_t inode = 0;
  // The multicast groups it listens to (group n is bit n - 1 of the
  // kernel's bitmap), ascending; empty when none.
  std::vector<uint32_t> groups;
  std::optional<uint32_t> flags;  // NDIAG_FLAG_*
  std::optional<SockQueues> queues;
  bool malformed = false;         // an attribute was cut or damaged: the rest was dropped
};

// Parses one NETLINK_DIAG reply; nullopt if of another type or shorter
// than netlink_diag_msg.
std::optional<NetlinkSock> parse_netlink_sock(const nlmsghdr* m);

// The protocol's name, after the kernel's NETLINK_* constant in lower case
// (NETLINK_ROUTE: "route", NETLINK_SOCK_DIAG: "sock_diag"); "" for a number
// it does not define. netlink_protocol_number is the inverse.
std::string_view netlink_protocol_name(unsigned protocol);
std::optional<uint8_t> netlink_protocol_number(std::string_view name);
// NDIAG_FLAG_* bits as comma-separated words (cb_running, pktinfo,
// broadcast_error, no_enobufs, listen_all_nsid, cap_ack); unknown bits in hex.
std::string netlink_flags_text(uint32_t flags);

}  // namespace netsql::kernel
