#include "vtabs/owners.h"

#include <algorithm>

#include "kernel/owners_bpf.h"
#include "kernel/procfs.h"

namespace netsql::vt {

const std::optional<std::string>& cached_process_name(std::unordered_map<int, std::optional<std::string>>& cache,
                                                      int pid) {
  auto it = cache.find(pid);
  if (it == cache.end()) it = cache.emplace(pid, kernel::process_name(pid)).first;
  return it->second;
}

void Owners::prepare(const Query& q, int first, SocketLister lister) {
  // One scan per statement: a join re-filters this cursor once per outer
  // row (per namespace, say), and the /proc scan is host-wide anyway.
  wanted_ |= q.uses(first) || q.uses(first + 1);
  lister_ = std::move(lister);
}

// The first owner cell read scans: for the listed sockets only when they
// are few, else the whole machine. A socket the list missed rescans.
void Owners::scan(uint64_t inode) {
  if (owners_ && (listed_.empty() || inode == 0 || std::binary_search(listed_.begin(), listed_.end(), inode))) return;
  if (!owners_ && lister_ && kernel::owner_mode() != kernel::OwnerMode::Proc) {
    bool few = true;
    lister_([&](uint64_t i) {
      if (i == 0) return true;  // TIME_WAIT and request sockets: nobody holds them
      if (listed_.size() == kernel::kMaxWantedSockets) return few = false;
      listed_.push_back(i);
      return true;
    });
    std::sort(listed_.begin(), listed_.end());
    listed_.erase(std::unique(listed_.begin(), listed_.end()), listed_.end());
    if (few && std::binary_search(listed_.begin(), listed_.end(), inode)) {
      owners_ = kernel::SocketOwners::scan_sockets(listed_);
      if (owners_->whole()) listed_.clear();
      return;
    }
  }
  listed_.clear();
  owners_ = kernel::SocketOwners::scan();
}

void Owners::column(int which, uint64_t inode, Cell& out) {
  if (inode == 0) return out.null();  // TIME_WAIT and request sockets: nobody holds them
  if (wanted_) scan(inode);
  std::optional<int> pid = owners_ ? owners_->lowest_pid(inode) : std::nullopt;
  if (!pid) return out.null();
  if (which == 0) return out.integer(*pid);
  out.maybe_text(cached_process_name(names_, *pid));
}

}  // namespace netsql::vt
