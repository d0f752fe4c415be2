// Which processes hold which sockets: one scan of /proc/*/fd into a flat
// list, plus an open-addressing index from inode to its lowest-pid owner,
// so the whole thing stays linear in the number of fds (ss and netstat
// hash into 256 and 211 buckets and go quadratic). Part of the kernel layer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace netsql::kernel {

struct SocketOwner {
  uint64_t inode;
  int pid;
  int fd;
};

class SocketOwners {
 public:
  // Scans every process (or just `pid` when non-zero). Processes that exit
  // meanwhile or whose fds we may not read are skipped. The whole-machine
  // scan goes through a BPF iterator when it can (owners_bpf.h).
  static SocketOwners scan(int pid = 0);

  // The lowest pid holding the socket with this inode; 0 if none is visible.
  int lowest_pid(uint64_t inode) const;
  // Every (inode, pid, fd), in scan order.
  std::span<const SocketOwner> all() const { return owners_; }

 private:
  void build_index();
  std::vector<SocketOwner> owners_;
  struct Slot {
    uint64_t inode;  // 0: empty (no socket has inode 0)
    int pid;
  };
  std::vector<Slot> index_;
  unsigned shift_ = 64;
};

// A process's name (comm), "" if it is gone.
std::string process_name(int pid);

// Numeric entries of /proc: every pid, ascending.
std::vector<int> list_pids();

}  // namespace netsql::kernel
