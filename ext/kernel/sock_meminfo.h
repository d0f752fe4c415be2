// The queue lengths in a sock_diag SK_MEMINFO attribute (an array of u32
// indexed by SK_MEMINFO_*), as ss prints them for packet and netlink
// sockets: Recv-Q is the receive memory allocated, Send-Q the send memory.
#pragma once

#include <linux/sock_diag.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "kernel/attrs.h"

namespace netsql::kernel {

struct SockQueues {
  uint32_t recv = 0, send = 0;  // bytes: SK_MEMINFO_RMEM_ALLOC, SK_MEMINFO_WMEM_ALLOC
};

// nullopt when the attribute is absent or too short to hold both.
inline std::optional<SockQueues> sock_queues(Bytes meminfo) {
  if (!meminfo.data() || meminfo.size() < (SK_MEMINFO_WMEM_ALLOC + 1) * sizeof(uint32_t)) return std::nullopt;
  SockQueues q;
  std::memcpy(&q.recv, meminfo.data() + SK_MEMINFO_RMEM_ALLOC * sizeof(uint32_t), sizeof q.recv);
  std::memcpy(&q.send, meminfo.data() + SK_MEMINFO_WMEM_ALLOC * sizeof(uint32_t), sizeof q.send);
  return q;
}

}  // namespace netsql::kernel
