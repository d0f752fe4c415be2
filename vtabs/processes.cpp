// processes: every process, from /proc/PID/{stat,status,cmdline,exe,ns/net}.
// Only the files the query's columns need are read; pid = / IN read only
// those processes. A process that exits while being read is skipped.
#include <unistd.h>

#include <climits>
#include <unordered_map>

#include "kernel/procfs.h"
#include "kernel/users.h"
#include "vtabs/filters.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  PID, PPID, NAME, CMDLINE, EXE, STATE, UID, USER, GID, THREADS, RSS_BYTES, VSIZE_BYTES, START_TIME, CPU_USER_MS,
  CPU_SYSTEM_MS, NETNS, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    {"pid", Type::Integer, "process id", kPushIn, 0.001, "only those processes are read"},
    {"ppid", Type::Integer, "parent process id"},
    {"name", Type::Text, "command name (comm)"},
    {"cmdline", Type::Text, "arguments joined by spaces; NULL for kernel threads"},
    {"exe", Type::Text, "executable path; NULL when not permitted or a kernel thread"},
    {"state", Type::Text, "R running, S sleeping, D disk sleep, Z zombie, T stopped, I idle, ..."},
    {"uid", Type::Integer, "real user id"},
    {"user", Type::Text, "user name of uid; NULL when the system knows none"},
    {"gid", Type::Integer, "real group id"},
    {"threads", Type::Integer, "number of threads"},
    {"rss_bytes", Type::Integer, "resident set size, bytes"},
    {"vsize_bytes", Type::Integer, "virtual memory size, bytes"},
    {"start_time", Type::Integer, "start time, unix seconds"},
    {"cpu_user_ms", Type::Integer, "CPU time in user mode, milliseconds"},
    {"cpu_system_ms", Type::Integer, "CPU time in kernel mode, milliseconds"},
    {"netns", Type::Integer, "inode of the process's network namespace; NULL when not permitted"},
}};

class ProcessesCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    at_ = 0;
    pids_.clear();
    if (const auto* v = q.values(PID)) {
      for (int64_t p : integers_from(*v, 1, INT_MAX)) pids_.push_back(static_cast<int>(p));
    } else {
      pids_ = kernel::list_pids();
    }
    if (!boot_time_) boot_time_ = kernel::boot_time();
    advance();
  }
  bool eof() const override { return at_ > pids_.size(); }
  void next() override { advance(); }

  void column(int col, Cell& out) override {
    const kernel::ProcStat& s = stat_;
    static const long kTick = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    static const long kPage = sysconf(_SC_PAGESIZE);
    switch (col) {
      case PID: return out.integer(s.pid);
      case PPID: return out.integer(s.ppid);
      case NAME: return out.text(s.comm);
      case CMDLINE: return out.maybe_text(kernel::process_cmdline(s.pid));
      case EXE: return out.maybe_text(kernel::process_exe(s.pid));
      case STATE: return out.text(std::string(1, s.state));
      case UID: case GID: case USER: {
        auto ids = kernel::process_ids(s.pid);
        if (!ids) return out.null();
        if (col == UID) return out.integer(ids->first);
        if (col == GID) return out.integer(ids->second);
        return out.maybe_text(user_name(ids->first));
      }
      case THREADS: return out.integer(s.threads);
      case RSS_BYTES: return out.integer(s.rss_pages * kPage);
      case VSIZE_BYTES: return out.integer(static_cast<int64_t>(s.vsize));
      case START_TIME:
        return boot_time_ ? out.integer(*boot_time_ + static_cast<int64_t>(s.start_ticks / static_cast<uint64_t>(kTick)))
                          : out.null();
      case CPU_USER_MS: return out.integer(static_cast<int64_t>(s.utime_ticks * 1000 / static_cast<uint64_t>(kTick)));
      case CPU_SYSTEM_MS: return out.integer(static_cast<int64_t>(s.stime_ticks * 1000 / static_cast<uint64_t>(kTick)));
      case NETNS: return out.integer(kernel::process_netns(s.pid));
      default: return out.null();
    }
  }

 private:
  // Moves to the next process whose stat can be read (one may exit any time).
  void advance() {
    while (at_ < pids_.size()) {
      if (auto s = kernel::process_stat(pids_[at_++])) {
        stat_ = std::move(*s);
        return;
      }
    }
    at_ = pids_.size() + 1;
  }

  const std::optional<std::string>& user_name(uint32_t uid) {
    auto it = users_.find(uid);
    if (it == users_.end()) it = users_.emplace(uid, kernel::user_name(uid)).first;
    return it->second;
  }

  std::vector<int> pids_;
  size_t at_ = 0;
  kernel::ProcStat stat_;
  std::optional<int64_t> boot_time_;
  std::unordered_map<uint32_t, std::optional<std::string>> users_;
};

}  // namespace

const TableDef kProcesses{
    "processes",
    "Processes, from /proc: identity, owner, memory, CPU time and network namespace.",
    kColumns,
    500,
    [] { return std::unique_ptr<Cursor>(new ProcessesCursor); },
};

}  // namespace netsql::vt
