#include "kernel/owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "kernel/fd.h"
#include "kernel/procfs.h"

namespace netsql::kernel {

namespace {

std::optional<int> pid_of(const char* name) {
  int pid = 0;
  const char* end = name + std::strlen(name);
  auto [p, ec] = std::from_chars(name, end, pid);
  if (ec != std::errc() || p != end || pid <= 0) return std::nullopt;
  return pid;
}

void scan_process(int proc_dir, int pid, std::vector<SocketOwner>& out) {
  char path[32];
  std::snprintf(path, sizeof path, "%d/fd", pid);
  int dfd = ::openat(proc_dir, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // exited, or not ours to read
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    // stat follows the fd's magic link to the socket's own inode: cheaper
    // than readlink, which makes the kernel print "socket:[N]" for us.
    struct stat st;
    if (::fstatat(dfd, e->d_name, &st, 0) != 0 || !S_ISSOCK(st.st_mode)) continue;
    if (auto fd = pid_of(e->d_name)) out.push_back({st.st_ino, pid, *fd});
  }
  ::closedir(d);
}

}  // namespace

std::vector<int> list_pids() {
  std::vector<int> pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  while (dirent* e = ::readdir(d))
    if (auto pid = pid_of(e->d_name)) pids.push_back(*pid);
  ::closedir(d);
  std::sort(pids.begin(), pids.end());
  return pids;
}

SocketOwners SocketOwners::scan(int pid) {
  SocketOwners s;
  Fd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc) return s;
  if (pid) {
    scan_process(proc.get(), pid, s.owners_);
  } else {
    for (int p : list_pids()) scan_process(proc.get(), p, s.owners_);
  }
  std::sort(s.owners_.begin(), s.owners_.end(), [](const SocketOwner& a, const SocketOwner& b) {
    return a.inode != b.inode ? a.inode < b.inode : a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
  });
  return s;
}

std::span<const SocketOwner> SocketOwners::find(uint64_t inode) const {
  auto lo = std::lower_bound(owners_.begin(), owners_.end(), inode,
                             [](const SocketOwner& o, uint64_t i) { return o.inode < i; });
  auto hi = lo;
  while (hi != owners_.end() && hi->inode == inode) ++hi;
  return {lo, hi};
}

std::string process_name(int pid) {
  auto s = read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!s) return {};
  if (!s->empty() && s->back() == '\n') s->pop_back();
  return *s;
}

}  // namespace netsql::kernel
