// When TCP sockets opened and closed, which the destroy announcement
// (sock_destroy.h) does not say: a BPF program on
// the inet_sock_set_state tracepoint (bpf/sock_times.bpf.c) records, by
// socket cookie, the boot-clock time of each TCP socket's opening (connect,
// listen, or an accepted child's SYN_RECV) and of its CLOSE, in a map of
// fixed size (131072 sockets, least recently used evicted). As a socket
// reaches CLOSE the program moves its times to a ring, which take() reads
// in place (closed_times.h keeps them until their announcement comes):
// reading them costs no system call. A socket whose CLOSE found the ring
// full keeps its times in the map, taken with one bpf() call per 64
// sockets. Part of the kernel layer: no SQLite here.
//
// One tracker per process, shared: cookies are unique host-wide, so it
// serves every namespace. It is loaded by the first SockTimesHold and
// unloaded (program, link and map: no fd stays) when the last one ends.
// Loading needs BTF and CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN); without
// them a hold says why and finds nothing. Like the owner programs, it is
// loaded through a light skeleton: no libbpf state, no threads, no signals.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace netsql::kernel {

struct SockTimes {
  int64_t opened_unix_ns = 0;  // when the socket opened, CLOCK_REALTIME nanoseconds
  // How long it lived, from its opening to its CLOSE, both as the kernel
  // saw them; nullopt when its CLOSE was not recorded.
  std::optional<int64_t> lived_ns;
};

// A hold on the process's tracker. Thread-safe: holds on any thread share
// one tracker.
class SockTimesHold {
 public:
  // Loads the tracker unless another hold has. A failed load is not
  // retried while some hold lives.
  SockTimesHold();
  ~SockTimesHold();
  SockTimesHold(const SockTimesHold&) = delete;
  SockTimesHold& operator=(const SockTimesHold&) = delete;

  // Why the tracker is not running ("" when it is).
  const std::string& failure() const;
  // What the tracker recorded of each socket in `cookies`, into `times`
  // (as many): nullopt when nothing was (a socket opened before the
  // tracker was loaded, not TCP, evicted, or no tracker). Their records are
  // taken out of the tracker when this is the only hold; while several
  // holds (scans) share the tracker, each of them may want them, so they
  // are left for eviction.
  // The boot-clock times become unix time with the offset between the two
  // clocks now.
  void take(std::span<const uint64_t> cookies, std::span<std::optional<SockTimes>> times) const;
  // How many closed sockets' records the process's tracker has read from
  // its ring (diagnostics: the times that cost no bpf() call).
  uint64_t ring_records() const;

  struct Tracker;

 private:
  std::shared_ptr<Tracker> tracker_;
};

}  // namespace netsql::kernel
