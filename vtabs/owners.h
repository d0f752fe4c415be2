// The pid and process columns every socket table carries: which process
// holds the socket open. The owner scan (BPF or /proc) runs only when a
// query reads one of them (colUsed), and only once a row is actually read:
// a query whose filters leave no rows pays nothing for owners. A table that
// can list the sockets its filter yields (a second, cheap dump) lets a
// query with few rows ask for just those sockets' owners.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/owners.h"
#include "vtabs/table.h"

namespace netsql::vt {

inline constexpr std::array<Column, 2> kOwnerColumns{{
    {"pid", Type::Integer,
     "lowest pid of the processes holding the socket (all of them: socket_owners); NULL when no owner is visible "
     "(TIME_WAIT, or another user's process when not root)"},
    {"process", Type::Text, "name (comm) of that process; NULL with pid"},
}};

// Calls `visit` with the inode of each socket the cursor's current filter
// yields, until it returns false.
using SocketLister = std::function<void(const std::function<bool(uint64_t)>& visit)>;

class Owners {
 public:
  // Arms the scan when q reads column `first` or `first + 1` (pid,
  // process). It runs at the first owner cell read, once per cursor, i.e.
  // once per statement however often the cursor is filtered. With a lister
  // that names few enough sockets (kernel::kMaxWantedSockets), only their
  // owners are looked for; a socket outside that list (one that appeared
  // since, or a later filter's) brings on the whole-machine scan.
  void prepare(const Query& q, int first, SocketLister lister = {});
  // Writes pid (which = 0) or process (which = 1) of the socket `inode`.
  void column(int which, uint64_t inode, Cell& out);

  bool wanted() const { return wanted_; }

 private:
  void scan(uint64_t inode);

  bool wanted_ = false;
  SocketLister lister_;
  std::optional<kernel::SocketOwners> owners_;
  std::vector<uint64_t> listed_;  // sorted; empty once owners_ covers every socket
  std::unordered_map<int, std::optional<std::string>> names_;
};

// comm of pid (nullopt once it is gone), remembered for the rest of the query.
const std::optional<std::string>& cached_process_name(std::unordered_map<int, std::optional<std::string>>& cache,
                                                      int pid);

}  // namespace netsql::vt
