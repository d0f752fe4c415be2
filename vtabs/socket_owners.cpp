// socket_owners: every (process, fd) that holds a socket, from one scan of
// /proc/*/fd. A socket shared by forked workers has a row per holder.
#include <climits>
#include <unordered_map>

#include "kernel/owners.h"
#include "vtabs/filters.h"
#include "vtabs/owners.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { INODE, PID, FD, PROCESS, kCount };

constexpr std::array<Column, kCount> kColumns{{
    {"inode", Type::Integer, "socket inode: join with tcp_sockets, udp_sockets, unix_sockets on inode"},
    key({"pid", Type::Integer, "process holding it", kPushEq, 0.001, "only that process's fds are read"}),
    key({"fd", Type::Integer, "file descriptor number in that process"}),
    {"process", Type::Text, "process name (comm)"},
}};

class OwnersCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    at_ = 0;
    std::optional<int> pid;
    if (const auto* v = q.values(PID)) {
      auto pids = integers_from(*v, 1, INT_MAX);
      if (pids.empty()) {
        owners_ = {};
        return;
      }
      pid = static_cast<int>(pids[0]);
    }
    owners_ = kernel::SocketOwners::scan(pid);
  }
  bool eof() const override { return at_ >= owners_.all().size(); }
  void next() override { ++at_; }
  void column(int col, Cell& out) override {
    const kernel::SocketOwner& o = owners_.all()[at_];
    switch (col) {
      case INODE: return out.integer(static_cast<int64_t>(o.inode));
      case PID: return out.integer(o.pid);
      case FD: return out.integer(o.fd);
      case PROCESS: return out.maybe_text(cached_process_name(names_, o.pid));
      default: return out.null();
    }
  }

 private:
  kernel::SocketOwners owners_;
  size_t at_ = 0;
  std::unordered_map<int, std::optional<std::string>> names_;
};

}  // namespace

const TableDef kSocketOwners{
    "socket_owners",
    "Every (process, fd) holding a socket, from /proc/*/fd; other users' processes are visible only to root.",
    kColumns,
    2000,
    [] { return std::unique_ptr<Cursor>(new OwnersCursor); },
};

}  // namespace netsql::vt
