#include "vtabs/owners.h"

#include "kernel/procfs.h"

namespace netsql::vt {

const std::optional<std::string>& cached_process_name(std::unordered_map<int, std::optional<std::string>>& cache,
                                                      int pid) {
  auto it = cache.find(pid);
  if (it == cache.end()) it = cache.emplace(pid, kernel::process_name(pid)).first;
  return it->second;
}

void Owners::prepare(const Query& q, int first) {
  // One scan per statement: a join re-filters this cursor once per outer
  // row (per namespace, say), and the /proc scan is host-wide anyway.
  wanted_ |= q.uses(first) || q.uses(first + 1);
}

void Owners::column(int which, uint64_t inode, Cell& out) {
  if (!owners_ && wanted_) owners_ = kernel::SocketOwners::scan();
  std::optional<int> pid = owners_ ? owners_->lowest_pid(inode) : std::nullopt;
  if (!pid) return out.null();
  if (which == 0) return out.integer(*pid);
  out.maybe_text(cached_process_name(names_, *pid));
}

}  // namespace netsql::vt
