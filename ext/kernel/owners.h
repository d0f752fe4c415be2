// Which processes hold which sockets: one scan of /proc/*/fd, kept as a
// flat table sorted by inode, so lookups stay O(log n) and the scan stays
// linear in the number of fds (ss and netstat hash into 256 and 211
// buckets and go quadratic). Part of the kernel layer.
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
  // meanwhile or whose fds we may not read are skipped.
  static SocketOwners scan(int pid = 0);

  // The owners of the socket with this inode, lowest pid (then fd) first.
  std::span<const SocketOwner> find(uint64_t inode) const;
  std::span<const SocketOwner> all() const { return owners_; }

 private:
  std::vector<SocketOwner> owners_;
};

// A process's name (comm), "" if it is gone.
std::string process_name(int pid);

// Numeric entries of /proc: every pid, ascending.
std::vector<int> list_pids();

}  // namespace netsql::kernel
