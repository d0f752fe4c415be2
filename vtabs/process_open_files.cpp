// process_open_files: every open file descriptor of every process, from
// /proc/PID/fd and /proc/PID/fdinfo (kernel/open_files.h), one fd at a time.
// pid = / IN read only those processes; the link, the stat and fdinfo are
// read only when a column needs them. An fd closed, or a process exited,
// while being read is skipped.
#include <climits>

#include "kernel/open_files.h"
#include "kernel/procfs.h"
#include "vtabs/filters.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { PID, FD, PATH, TYPE, INODE, FLAGS, ACCESS, POS, kCount };

constexpr std::array<Column, kCount> kColumns{{
    key({"pid", Type::Integer, "process id", kPushIn, 0.001, "only those processes' fds are read"}),
    key({"fd", Type::Integer, "file descriptor number"}),
    {"path", Type::Text,
     "what /proc/PID/fd/FD links to: a path (ending ' (deleted)' once unlinked), or socket:[INODE], pipe:[INODE], "
     "anon_inode:[eventfd] and the like"},
    {"type", Type::Text,
     "file, directory, socket, pipe (anonymous or FIFO), anon_inode (eventfd, epoll, timerfd, pidfd, ...), char, "
     "block, symlink or unknown"},
    {"inode", Type::Integer, "inode of the file; for a socket, join with tcp_sockets, udp_sockets, unix_sockets on inode"},
    {"flags", Type::Integer,
     "open flags (O_* bits, e.g. O_APPEND 1024, O_NONBLOCK 2048, O_CLOEXEC 524288), from fdinfo's octal flags:"},
    {"access", Type::Text, "read, write or read-write (flags & O_ACCMODE)"},
    {"pos", Type::Integer, "file offset, from fdinfo's pos:"},
}};

class OpenFilesCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    std::vector<int> pids;
    if (const auto* v = q.values(PID)) {
      for (int64_t p : integers_from(*v, 1, INT_MAX)) pids.push_back(static_cast<int>(p));
    } else {
      pids = kernel::list_pids();
    }
    kernel::OpenFileScan::Parts parts{
        .link = q.uses(PATH) || q.uses(TYPE),
        .stat = q.uses(INODE) || q.uses(TYPE),
        .info = q.uses(FLAGS) || q.uses(ACCESS) || q.uses(POS),
    };
    scan_.emplace(std::move(pids), parts);
    more_ = scan_->next();
  }
  bool eof() const override { return !more_; }
  void next() override { more_ = scan_->next(); }
  void column(int col, Cell& out) override {
    const kernel::OpenFile& f = scan_->current();
    switch (col) {
      case PID: return out.integer(f.pid);
      case FD: return out.integer(f.fd);
      case PATH: return out.maybe_text(f.link);
      case TYPE: return out.text(kernel::file_type(f.link.value_or(""), f.st));
      case INODE: return f.st ? out.integer(static_cast<int64_t>(f.st->st_ino)) : out.null();
      case FLAGS: return f.info ? out.integer(f.info->flags) : out.null();
      case ACCESS: return f.info ? out.text(kernel::access_mode(f.info->flags)) : out.null();
      case POS: return f.info ? out.integer(static_cast<int64_t>(f.info->pos)) : out.null();
      default: return out.null();
    }
  }

 private:
  std::optional<kernel::OpenFileScan> scan_;
  bool more_ = false;
};

}  // namespace

const TableDef kProcessOpenFiles{
    "process_open_files",
    "Every open file descriptor of every process, from /proc/PID/fd and /proc/PID/fdinfo; other users' processes are "
    "visible only to root.",
    kColumns,
    5000,
    [] { return std::unique_ptr<Cursor>(new OpenFilesCursor); },
};

}  // namespace netsql::vt
