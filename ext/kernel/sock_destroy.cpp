#include "kernel/sock_destroy.h"

#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

namespace netsql::kernel {

uint8_t destroy_group(int family, int protocol) {
  bool v6 = family == AF_INET6;
  if (family != AF_INET && !v6) return 0;
  if (protocol == IPPROTO_TCP) return v6 ? kTcp6Destroy : kTcp4Destroy;
  if (protocol == IPPROTO_UDP) return v6 ? kUdp6Destroy : kUdp4Destroy;
  return 0;
}

namespace {
std::atomic<uint64_t>& thread_overruns() {
  thread_local std::atomic<uint64_t> n{0};
  return n;
}
}  // namespace

const std::atomic<uint64_t>& this_thread_destroy_overruns() { return thread_overruns(); }

DestroyWatch::DestroyWatch(const Netns& netns, uint8_t groups, int rcvbuf)
    : sock_(netns.netlink(NETLINK_SOCK_DIAG)), slots_(std::make_unique_for_overwrite<Slots>()) {
  if (rcvbuf > 0 && ::setsockopt(sock_.fd(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0 &&
      ::setsockopt(sock_.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
    throw_errno(errno, "sock_diag receive buffer");
  static constexpr int kGroups[] = {SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_TCP_DESTROY,
                                    SKNLGRP_INET6_UDP_DESTROY};
  for (int i = 0; i < 4; ++i) {
    if (!(groups & (1u << i))) continue;
    int group = kGroups[i];
    if (::setsockopt(sock_.fd(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) == 0) continue;
    int err = errno;
    if (err == EPERM)
      throw NetlinkError(err, "listening for destroyed sockets (sock_diag destroy groups) needs CAP_NET_ADMIN over "
                              "the network namespace");
    throw_errno(err, "sock_diag destroy group " + std::to_string(group));
  }
}

void DestroyWatch::count_overrun() {
  ++counters_.overruns;
  thread_overruns().fetch_add(1, std::memory_order_relaxed);
}

bool DestroyWatch::receive() {
  sockaddr_nl from[kBatch];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i] = {slots_->data[i], kSlot};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n;
  for (;;) {
    // An error after the first datagram is kept by the kernel for the next
    // call: an overflow is still counted, before what followed it.
    n = ::recvmmsg(sock_.fd(), msgs, kBatch, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n >= 0) break;
    if (errno == EAGAIN) return false;
    if (errno == EINTR) continue;
    if (errno == ENOBUFS) {  // the queue overflowed: messages were dropped
      count_overrun();
      continue;
    }
    throw_errno(errno, "sock_diag destroy receive");
  }
  count_ = 0;
  for (int i = 0; i < n; ++i) {
    if (from[i].nl_pid != 0) continue;  // not from the kernel
    if (msgs[i].msg_len > kSlot) {      // cannot happen with today's messages; never pass it off as whole
      count_overrun();
      continue;
    }
    if (count_ != static_cast<size_t>(i)) std::memcpy(slots_->data[count_], slots_->data[i], msgs[i].msg_len);
    slots_->len[count_++] = msgs[i].msg_len;
  }
  at_ = pos_ = 0;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  received_ms_ = int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
  return true;
}

const nlmsghdr* DestroyWatch::message_at(size_t& at, size_t& pos) const {
  for (; at < count_; ++at, pos = 0) {
    const size_t len = slots_->len[at];
    while (len - pos >= sizeof(nlmsghdr)) {
      const auto* m = reinterpret_cast<const nlmsghdr*>(slots_->data[at] + pos);
      if (m->nlmsg_len < sizeof(nlmsghdr) || m->nlmsg_len > len - pos) break;  // malformed: drop the rest
      pos += std::min<size_t>(align4(m->nlmsg_len), len - pos);
      if (m->nlmsg_type == SOCK_DIAG_BY_FAMILY) return m;
    }
  }
  return nullptr;
}

const nlmsghdr* DestroyWatch::next(std::chrono::steady_clock::time_point deadline,
                                   const std::function<bool(bool)>& stop) {
  using namespace std::chrono;
  for (;;) {
    if (const nlmsghdr* m = message_at(at_, pos_)) {
      ++counters_.messages;
      return m;
    }
    count_ = at_ = pos_ = 0;
    auto now = steady_clock::now();
    if (now >= deadline) return nullptr;
    // Asked also while announcements keep coming (then no wait times out).
    if (now - asked_ >= kStopSlice) {
      asked_ = now;
      if (stop(false)) throw WaitStopped();
    }
    if (receive()) {
      gathering_ = true;
      continue;
    }
    // The queue is drained, but announcements were coming: more are likely
    // on their way. Letting them gather for a moment costs one wake-up for
    // many, not one each (the thread's switches were most of the CPU at
    // 20,000 closes/s); the receive buffer holds them meanwhile.
    if (gathering_) {
      gathering_ = false;
      std::this_thread::sleep_for(std::min<steady_clock::duration>(kGather, deadline - now));
      continue;
    }
    auto slice = std::min(duration_cast<milliseconds>(deadline - now) + milliseconds(1), kStopSlice);
    pollfd p{sock_.fd(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(slice.count()));
    if (r < 0 && errno != EINTR) throw_errno(errno, "sock_diag destroy poll");
    if (r <= 0) {
      asked_ = steady_clock::now();
      if (stop(r < 0)) throw WaitStopped();
    }
  }
}

}  // namespace netsql::kernel
