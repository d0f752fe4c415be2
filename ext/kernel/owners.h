// Which processes hold which sockets: one scan of /proc/*/fd into a flat
// list, plus an open-addressing index from inode to its lowest-pid owner,
// so the whole thing stays linear in the number of fds (ss and netstat
// hash into 256 and 211 buckets and go quadratic). Part of the kernel layer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace netsql::kernel {

struct SocketOwner {
  uint64_t inode;
  int pid;
  int fd;
};

class SocketOwners {
 public:
  // Scans every process, or just `pid`. Processes that exit meanwhile or
  // whose fds we may not read are skipped. The whole-machine scan goes
  // through a BPF iterator when it can (owners_bpf.h); otherwise a /proc
  // scan spreads the processes over up to `threads` threads, the calling one included; when
  // the system refuses one (thread limit, memory), those it has do its share.
  static SocketOwners scan(std::optional<int> pid = std::nullopt, unsigned threads = default_threads());
  // Enough to answer lowest_pid for these sockets (others may be answered
  // too): through the BPF walk that keeps only their lowest owners when it
  // can (lowest_owners_bpf in owners_bpf.h; all() then holds one entry per
  // socket held), otherwise the whole-machine scan.
  static SocketOwners scan_sockets(std::span<const uint64_t> inodes);
  // The cores, at most 4.
  static unsigned default_threads();

  // The lowest pid holding the socket with this inode, if any is visible.
  std::optional<int> lowest_pid(uint64_t inode) const;
  // Every (inode, pid, fd), ordered by pid.
  std::span<const SocketOwner> all() const { return owners_; }
  // False when it holds only the wanted sockets' owners (scan_sockets).
  bool whole() const { return whole_; }

 private:
  void build_index();
  std::vector<SocketOwner> owners_;
  bool whole_ = true;
  struct Slot {
    uint64_t inode;  // 0: empty (no socket has inode 0)
    int pid;
  };
  std::vector<Slot> index_;
  unsigned shift_ = 64;
};

}  // namespace netsql::kernel
