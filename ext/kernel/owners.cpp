#include "kernel/owners.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "kernel/fd.h"
#include "kernel/open_files.h"
#include "kernel/owners_bpf.h"
#include "kernel/procfs.h"

namespace netsql::kernel {

namespace {

void scan_process(int proc_dir, int pid, std::vector<SocketOwner>& out) {
  FdDir dir(proc_dir, pid);
  while (auto fd = dir.next()) {
    auto st = dir.stat();
    if (st && S_ISSOCK(st->st_mode)) out.push_back({st->st_ino, pid, *fd});
  }
}

// The kernel's per-fd work dominates, so the processes are spread over
// threads. Each takes the next pid nobody has taken, so any number of
// threads covers them all, the calling one alone included. Helpers only
// read /proc, keep what they throw for the caller, and are joined before
// this returns.
std::vector<SocketOwner> scan_processes(int proc_dir, const std::vector<int>& pids, unsigned threads) {
  std::vector<std::vector<SocketOwner>> parts(threads);
  std::vector<std::exception_ptr> errors(threads);
  std::atomic<size_t> next{0};
  auto work = [&](unsigned t) noexcept {
    try {
      for (size_t i; (i = next.fetch_add(1)) < pids.size();) scan_process(proc_dir, pids[i], parts[t]);
    } catch (...) {
      errors[t] = std::current_exception();
      next = pids.size();  // the others stop too
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads);
  for (unsigned t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work, t);
    } catch (const std::exception&) {  // refused: thread or process limit (EAGAIN), memory
      break;
    }
  }
  work(0);
  for (auto& h : helpers) h.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  // Each part holds whole processes in pid order.
  std::vector<SocketOwner> all;
  for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  std::stable_sort(all.begin(), all.end(), [](const SocketOwner& a, const SocketOwner& b) { return a.pid < b.pid; });
  return all;
}

}  // namespace

unsigned SocketOwners::default_threads() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

SocketOwners SocketOwners::scan(std::optional<int> pid, unsigned threads) {
  SocketOwners s;
  // Whole machine: the kernel's own walk when we may load BPF (owners_bpf.h).
  if (!pid && scan_owners_bpf(s.owners_)) {
    s.build_index();
    return s;
  }
  note_owner_source(OwnerSource::Proc);
  Fd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!proc) return s;
  if (pid) {
    scan_process(proc.get(), *pid, s.owners_);
  } else {
    std::vector<int> pids = list_pids();
    s.owners_ = scan_processes(proc.get(), pids, pids.size() < 64 ? 1 : std::max(threads, 1u));
  }
  s.build_index();
  return s;
}

SocketOwners SocketOwners::scan_sockets(std::span<const uint64_t> inodes) {
  SocketOwners s;
  if (!lowest_owners_bpf(inodes, s.owners_)) return scan();
  s.whole_ = false;
  std::sort(s.owners_.begin(), s.owners_.end(), [](const SocketOwner& a, const SocketOwner& b) { return a.pid < b.pid; });
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

std::optional<int> SocketOwners::lowest_pid(uint64_t inode) const {
  if (index_.empty() || inode == 0) return std::nullopt;
  size_t mask = index_.size() - 1;
  for (size_t i = (inode * kGolden) >> shift_;; i = (i + 1) & mask) {
    const Slot& slot = index_[i];
    if (slot.inode == inode) return slot.pid;
    if (slot.inode == 0) return std::nullopt;
  }
}

}  // namespace netsql::kernel
