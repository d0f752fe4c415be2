// The pid and process columns every socket table carries: which process
// holds the socket open. The owner scan (BPF or /proc) runs only when a
// query reads one of them (colUsed), and only once a row is actually read:
// a query whose filters leave no rows pays nothing for owners.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <unordered_map>

#include "kernel/owners.h"
#include "vtabs/table.h"

namespace netsql::vt {

inline constexpr std::array<Column, 2> kOwnerColumns{{
    {"pid", Type::Integer,
     "lowest pid of the processes holding the socket (all of them: socket_owners); NULL when no owner is visible "
     "(TIME_WAIT, or another user's process when not root)"},
    {"process", Type::Text, "name (comm) of that process; NULL with pid"},
}};

class Owners {
 public:
  // Arms the scan when q reads column `first` or `first + 1` (pid,
  // process). It runs at the first owner cell read, once per cursor, i.e.
  // once per statement however often the cursor is filtered.
  void prepare(const Query& q, int first);
  // Writes pid (which = 0) or process (which = 1) of the socket `inode`.
  void column(int which, uint64_t inode, Cell& out);

 private:
  bool wanted_ = false;
  std::optional<kernel::SocketOwners> owners_;
  std::unordered_map<int, std::optional<std::string>> names_;
};

// comm of pid (nullopt once it is gone), remembered for the rest of the query.
const std::optional<std::string>& cached_process_name(std::unordered_map<int, std::optional<std::string>>& cache,
                                                      int pid);

}  // namespace netsql::vt
