// Processes' open file descriptors, from /proc/PID/fd (one magic link per
// fd) and /proc/PID/fdinfo/FD (offset and open flags), read one process
// and one fd at a time so memory stays constant however many fds the
// machine has. The /proc owner scan (owners.cpp) walks the same
// directories through FdDir. Part of the kernel layer.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/fd.h"

namespace netsql::kernel {

// One process's fd directory, read entry by entry.
class FdDir {
 public:
  // Opens <pid>/fd under `proc` (an fd of /proc). Empty (false) when the
  // process is gone or its fds are not ours to read.
  FdDir(int proc, int pid);
  ~FdDir();
  FdDir(const FdDir&) = delete;
  FdDir& operator=(const FdDir&) = delete;
  explicit operator bool() const { return dir_ != nullptr; }

  // The next fd number; nullopt at the end.
  std::optional<int> next();
  // What the current fd refers to (following the link) and the link's text;
  // nullopt when the fd was closed or the process exited meanwhile (errno
  // ENOENT) or the file cannot be stat'ed (errno says why).
  std::optional<struct stat> stat() const;
  std::optional<std::string> link() const;

 private:
  DIR* dir_ = nullptr;
  const char* name_ = nullptr;
};

// From /proc/PID/fdinfo/FD.
struct FdInfo {
  uint64_t pos = 0;    // file offset
  uint32_t flags = 0;  // open flags (O_*), printed in octal by the kernel
};
std::optional<FdInfo> read_fdinfo(int proc, int pid, int fd);

// What kind of file an fd refers to: socket, pipe (anonymous or FIFO),
// anon_inode (eventfd, epoll, timerfd, pidfd ...), file, directory, char,
// block, symlink, or unknown. `link` decides the kinds that have no path
// (socket:[N], pipe:[N], anon_inode:[...]); `st` the rest.
std::string_view file_type(std::string_view link, const std::optional<struct stat>& st);
// "read", "write" or "read-write" from open flags.
std::string_view access_mode(uint32_t flags);

struct OpenFile {
  int pid = 0;
  int fd = 0;
  std::optional<std::string> link;   // when Parts::link
  std::optional<struct stat> st;     // when Parts::stat
  std::optional<FdInfo> info;        // when Parts::info
};

// Every fd of the given processes, one at a time. Reads only the parts
// asked for; an fd whose asked parts cannot be read (closed meanwhile, its
// process exited) is skipped, as is a process whose fds we may not read.
class OpenFileScan {
 public:
  struct Parts {
    bool link = false;
    bool stat = false;
    bool info = false;
  };
  OpenFileScan(std::vector<int> pids, Parts parts);
  ~OpenFileScan();
  OpenFileScan(const OpenFileScan&) = delete;
  OpenFileScan& operator=(const OpenFileScan&) = delete;

  // Moves to the next fd; false at the end.
  bool next();
  const OpenFile& current() const { return current_; }

 private:
  std::vector<int> pids_;
  size_t next_pid_ = 0;
  Parts parts_;
  Fd proc_;
  std::optional<FdDir> dir_;
  OpenFile current_;
};

}  // namespace netsql::kernel
