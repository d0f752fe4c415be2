#include "kernel/owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <thread>
#include <cstring>

#include "kernel/fd.h"
#include "kernel/owners_bpf.h"
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
  // Whole machine: the kernel's own walk when we may load BPF (owners_bpf.h).
  if (pid == 0 && scan_owners_bpf(s.owners_)) {
    s.build_index();
    return s;
  }
  note_owner_source(OwnerSource::Proc);
  Fd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc) return s;
  if (pid) {
    scan_process(proc.get(), pid, s.owners_);
  } else {
    // The kernel's per-fd work dominates; spread the processes over the
    // cores (helper threads only read /proc and end before we return).
    std::vector<int> pids = list_pids();
    unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    if (pids.size() < 64) n = 1;
    std::vector<std::vector<SocketOwner>> parts(n);
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < n; ++t)
      threads.emplace_back([&, t] {
        for (size_t i = t; i < pids.size(); i += n) scan_process(proc.get(), pids[i], parts[t]);
      });
    for (size_t i = 0; i < pids.size(); i += n) scan_process(proc.get(), pids[i], parts[0]);
    for (auto& th : threads) th.join();
    for (auto& p : parts) s.owners_.insert(s.owners_.end(), p.begin(), p.end());
  }
  s.build_index();
  return s;
}

namespace {
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // Fibonacci hashing
}

void SocketOwners::build_index() {
  unsigned bits = 4;
  while ((size_t{1} << bits) < owners_.size() * 2) ++bits;
  shift_ = 64 - bits;
  index_.assign(size_t{1} << bits, Slot{0, 0});
  size_t mask = index_.size() - 1;
  for (const SocketOwner& o : owners_) {
    for (size_t i = (o.inode * kGolden) >> shift_;; i = (i + 1) & mask) {
      Slot& slot = index_[i];
      if (slot.inode == 0) {
        slot = {o.inode, o.pid};
        break;
      }
      if (slot.inode == o.inode) {
        slot.pid = std::min(slot.pid, o.pid);
        break;
      }
    }
  }
}

int SocketOwners::lowest_pid(uint64_t inode) const {
  if (index_.empty() || inode == 0) return 0;
  size_t mask = index_.size() - 1;
  for (size_t i = (inode * kGolden) >> shift_;; i = (i + 1) & mask) {
    const Slot& slot = index_[i];
    if (slot.inode == inode) return slot.pid;
    if (slot.inode == 0) return 0;
  }
}

std::string process_name(int pid) {
  auto s = read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!s) return {};
  if (!s->empty() && s->back() == '\n') s->pop_back();
  return *s;
}

}  // namespace netsql::kernel
