// sock_diag for unix sockets (UNIX_DIAG). Part of the kernel layer.
#pragma once

#include <linux/unix_diag.h>

#include <cstdint>
#include <optional>
#include <string>

#include "kernel/netlink.h"

namespace netsql::kernel {

// A dump of unix sockets in the states of `state_mask` (1 << TCP_x), with
// name, peer, queue lengths and owner uid.
Request unix_diag_request(uint32_t state_mask);

struct UnixSock {
  uint8_t type = 0, state = 0;
  uint64_t inode = 0;
  std::optional<uint64_t> peer;
  std::optional<std::string> path;  // abstract names start with '@'
  std::optional<uint32_t> rqueue, wqueue, uid;
};

// Parses one UNIX_DIAG reply; nullopt if of another type or too short.
std::optional<UnixSock> parse_unix_sock(const nlmsghdr* m);

}  // namespace netsql::kernel
