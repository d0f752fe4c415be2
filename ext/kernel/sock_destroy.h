// The kernel's announcements of destroyed sockets: for every TCP or UDP
// socket it frees, sock_diag sends a message shaped like a dump reply
// (inet_diag_msg, INET_DIAG_PROTOCOL and, for TCP, the final tcp_info) to
// the SKNLGRP_*_DESTROY multicast groups of the socket's namespace: what
// `ss -E` prints. The message carries no uid, inode or congestion
// algorithm (the kernel fills only the common fields). Part of the kernel
// layer: no SQLite here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "kernel/netlink.h"
#include "kernel/netns.h"

namespace netsql::kernel {

// The destroy groups (linux/sock_diag.h SKNLGRP_*), as bits.
enum DestroyGroup : uint8_t { kTcp4Destroy = 1, kUdp4Destroy = 2, kTcp6Destroy = 4, kUdp6Destroy = 8 };
inline constexpr uint8_t kAllDestroyGroups = 15;
// The group bit for an address family (AF_INET, AF_INET6) and protocol
// (IPPROTO_TCP, IPPROTO_UDP); 0 for any other.
uint8_t destroy_group(int family, int protocol);

struct DestroyCounters {
  uint64_t messages = 0;  // destroy messages handed out
  // Receive-queue overflows the kernel reported (ENOBUFS): each one lost
  // one or more messages, how many is not known.
  uint64_t overruns = 0;
};

// The overruns (as DestroyCounters::overruns) of every DestroyWatch the
// calling thread has received on, so far: a counter another thread may
// read while this thread lives, also while it waits inside a scan (the
// schedule's collector records it without stopping its reader).
const std::atomic<uint64_t>& this_thread_destroy_overruns();

// The caller stopped the wait (DestroyWatch::next's `stop` said so).
struct WaitStopped : NetlinkError {
  WaitStopped() : NetlinkError(EINTR, "interrupted") {}
};

// A sock_diag socket in one namespace subscribed to destroy groups. One
// fixed buffer: memory does not grow with the event rate.
class DestroyWatch {
 public:
  // Subscribes to `groups` (DestroyGroup bits) in `netns`. `rcvbuf`: the
  // socket's receive buffer in bytes (the kernel's minimum applies; as
  // root beyond net.core.rmem_max), 0 for the netlink default of 1 MiB.
  // Without CAP_NET_ADMIN over the namespace: NetlinkError(EPERM) saying so.
  DestroyWatch(const Netns& netns, uint8_t groups, int rcvbuf = 0);

  // The next destroy message, or nullptr once `deadline` passes. Waits in
  // slices of at most 100 ms; after each slice, when a signal cut the wait
  // short (`signalled`), and every 100 ms while messages keep arriving,
  // asks `stop`, and throws WaitStopped if it says so. The message stays
  // valid until the next call.
  const nlmsghdr* next(std::chrono::steady_clock::time_point deadline,
                       const std::function<bool(bool signalled)>& stop);
  // Calls f(const nlmsghdr*) for each message received with the one next()
  // returned and not handed out yet, in the order next() will return them:
  // one receive takes up to kBatch waiting announcements, so a caller that
  // needs something per message (closed_sockets' tracker entries) can
  // fetch it for all of them in one go.
  template <typename F>
  void for_each_waiting(F&& f) const {
    size_t at = at_, pos = pos_;
    while (const nlmsghdr* m = message_at(at, pos)) f(m);
  }
  // When the message next() returned was received, unix milliseconds.
  int64_t received_ms() const { return received_ms_; }
  const DestroyCounters& counters() const { return counters_; }

 private:
  bool receive();  // the waiting datagrams (up to kBatch) into slots_; false if none is waiting
  // The message at datagram `at`, offset `pos`, or the first after it
  // (skipping what is no destroy message), and moves (at, pos) past it;
  // nullptr at the end of what was received.
  const nlmsghdr* message_at(size_t& at, size_t& pos) const;
  void count_overrun();

  NetlinkSocket sock_;
  static constexpr size_t kBatch = 64;    // datagrams one receive takes (recvmmsg)
  static constexpr size_t kSlot = 4096;   // a destroy message is well under 1 KiB
  struct Slots {
    uint8_t data[kBatch][kSlot];
    size_t len[kBatch];
  };
  std::unique_ptr<Slots> slots_;
  size_t count_ = 0;       // datagrams in slots_
  size_t at_ = 0, pos_ = 0;  // the next message: datagram, offset
  int64_t received_ms_ = 0;
  static constexpr std::chrono::milliseconds kStopSlice{100};
  // How long announcements may gather once the queue is drained while
  // they keep coming (the most a message waits beyond its arrival).
  static constexpr std::chrono::milliseconds kGather{10};
  bool gathering_ = false;  // messages were received since the last wait
  std::chrono::steady_clock::time_point asked_ = std::chrono::steady_clock::now();  // when `stop` was last asked
  DestroyCounters counters_;
};

}  // namespace netsql::kernel
