// processes: every process, from /proc/PID/{stat,status,cmdline,cgroup}
// and the links exe, cwd, root and ns/*. stat is read for every row; each
// other file or link only when a column the query reads needs it (once per
// row, into buffers reused from row to row, through a descriptor of the
// process's directory: kernel::ProcessDir); pid = / IN read only those
// processes. A process that exits while being read is skipped. Where the
// kernel has PIDFD_GET_INFO (6.13), the ids come from a pidfd instead of
// status, and the cgroup file is read once per cgroup a scan, the path
// kept by the cgroup id the pidfd gives.
#include <unistd.h>

#include <climits>
#include <unordered_map>

#include "kernel/cgroup.h"
#include "kernel/procfs.h"
#include "kernel/users.h"
#include "vtabs/filters.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  PID, PPID, NAME, CMDLINE, EXE, STATE, UID, USER, GID, THREADS, RSS_BYTES, VSIZE_BYTES, START_TIME, CPU_USER_MS,
  CPU_SYSTEM_MS, NETNS, ARGV, CWD, ROOT, EUID, EGID, SUID, SGID, NICE, PGROUP, SESSION, TTY, CGROUP, CONTAINER_ID,
  SYSTEMD_UNIT, MNT_NS, PID_NS, USER_NS, UTS_NS, IPC_NS, CGROUP_NS, NET_NS, kCount
};

// Hidden (see hide()): the links past exe and netns, cwd, root and ns/*,
// one more link read a process each; with them SELECT * cost 1.6x
// `ps -eo pid,comm,args`, without them about as much as ps.
constexpr std::array<Column, kCount> kColumns{{
    key({"pid", Type::Integer, "process id", kPushIn, 0.001, "only those processes are read"}),
    {"ppid", Type::Integer, "parent process id"},
    {"name", Type::Text, "command name (comm)"},
    {"cmdline", Type::Text,
     "the arguments joined by single spaces, each quoted as a POSIX shell word when it is empty or holds "
     "anything but letters, digits and @%+=:,./-_ ('a b', '', 'it'\\''s'), bytes kept as they are, so that "
     "`eval \"set -- $cmdline\"` gives back argv exactly; NULL for kernel threads"},
    {"exe", Type::Text, "executable path; NULL when not permitted or a kernel thread"},
    {"state", Type::Text, "R running, S sleeping, D disk sleep, Z zombie, T stopped, I idle, ..."},
    {"uid", Type::Integer, "real user id"},
    {"user", Type::Text, "user name of uid; NULL when the system knows none"},
    {"gid", Type::Integer, "real group id"},
    {"threads", Type::Integer, "number of threads"},
    {"rss_bytes", Type::Integer, "resident set size, bytes"},
    {"vsize_bytes", Type::Integer, "virtual memory size, bytes"},
    key({"start_time", Type::Integer, "start time, unix seconds"}),
    {"cpu_user_ms", Type::Integer, "CPU time in user mode, milliseconds"},
    {"cpu_system_ms", Type::Integer, "CPU time in kernel mode, milliseconds"},
    {"netns", Type::Integer, "inode of the process's network namespace (as net_ns); NULL when not permitted"},
    {"argv", Type::Text,
     "the arguments as a JSON array of strings ('[]' for kernel threads); always valid UTF-8 JSON: each byte "
     "that is not part of valid UTF-8 becomes the private-use character U+F780 + (byte - 0x80), written "
     "\\uf780..\\uf7ff (0xff is \\uf7ff)"},
    hide({"cwd", Type::Text, "current working directory (/proc/PID/cwd); NULL when not permitted"}),
    hide({"root", Type::Text, "root directory (/proc/PID/root, / unless chrooted); NULL when not permitted"}),
    {"euid", Type::Integer, "effective user id"},
    {"egid", Type::Integer, "effective group id"},
    {"suid", Type::Integer, "saved set-user-id"},
    {"sgid", Type::Integer, "saved set-group-id"},
    {"nice", Type::Integer, "nice value, -20 to 19"},
    {"pgroup", Type::Integer, "process group id"},
    {"session", Type::Integer, "session id"},
    {"tty", Type::Text,
     "controlling terminal as ps names it: pts/N, ttyN, ttySN, tty, console; any other device as "
     "'MAJOR:MINOR'; NULL for none"},
    {"cgroup", Type::Text,
     "cgroup v2 path (the 0:: line of /proc/PID/cgroup), relative to the reader's cgroup namespace; NULL "
     "without cgroup v2"},
    {"container_id", Type::Text,
     "container recognised from the cgroup path (innermost wins): docker (docker-ID.scope, /docker/ID), "
     "containerd and CRI-O (cri-containerd-ID.scope, crio-ID.scope, kubepods/.../podUID/ID), podman "
     "(libpod-ID.scope), all 64 hex digits; LXC (/lxc/NAME, lxc.payload.NAME): the name; NULL otherwise"},
    {"systemd_unit", Type::Text,
     "systemd unit from the cgroup path, as ps -o unit shows it: the first *.service or *.scope component "
     "(ssh.service, session-3.scope); NULL when none"},
    hide({"mnt_ns", Type::Integer, "inode of the mount namespace; NULL when not permitted"}),
    hide({"pid_ns", Type::Integer, "inode of the pid namespace; NULL when not permitted"}),
    hide({"user_ns", Type::Integer, "inode of the user namespace; NULL when not permitted"}),
    hide({"uts_ns", Type::Integer, "inode of the UTS (host name) namespace; NULL when not permitted"}),
    hide({"ipc_ns", Type::Integer, "inode of the IPC namespace; NULL when not permitted"}),
    hide({"cgroup_ns", Type::Integer, "inode of the cgroup namespace; NULL when not permitted"}),
    hide({"net_ns", Type::Integer, "inode of the network namespace; NULL when not permitted"}),
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
    cgroups_.clear();
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
      case CMDLINE:
        if (!cmdline()) return out.null();
        kernel::join_cmdline(*cmdline(), buf_);
        return out.text(buf_);
      case ARGV: kernel::cmdline_json(cmdline().value_or(""), buf_); return out.text(buf_);
      case EXE: return link("exe", out);
      case CWD: return link("cwd", out);
      case ROOT: return link("root", out);
      case STATE: return out.text(std::string_view(&s.state, 1));
      case UID: case GID: case USER: case EUID: case EGID: case SUID: case SGID: {
        const auto& ids = this->ids();
        if (!ids) return out.null();
        switch (col) {
          case UID: return out.integer(ids->uid);
          case GID: return out.integer(ids->gid);
          case EUID: return out.integer(ids->euid);
          case EGID: return out.integer(ids->egid);
          case SUID: return out.integer(ids->suid);
          case SGID: return out.integer(ids->sgid);
          default: return out.maybe_text(user_name(ids->uid));
        }
      }
      case THREADS: return out.integer(s.threads);
      case RSS_BYTES: return out.integer(s.rss_pages * kPage);
      case VSIZE_BYTES: return out.integer(static_cast<int64_t>(s.vsize));
      case START_TIME:
        return boot_time_ ? out.integer(*boot_time_ + static_cast<int64_t>(s.start_ticks / static_cast<uint64_t>(kTick)))
                          : out.null();
      case CPU_USER_MS: return out.integer(static_cast<int64_t>(s.utime_ticks * 1000 / static_cast<uint64_t>(kTick)));
      case CPU_SYSTEM_MS: return out.integer(static_cast<int64_t>(s.stime_ticks * 1000 / static_cast<uint64_t>(kTick)));
      case NICE: return out.integer(s.nice);
      case PGROUP: return out.integer(s.pgroup);
      case SESSION: return out.integer(s.session);
      case TTY: return out.maybe_text(kernel::tty_name(s.tty_nr));
      case CGROUP: return out.maybe_text(cgroup());
      case CONTAINER_ID: return out.maybe_text(cgroup() ? kernel::container_id(*cgroup()) : std::nullopt);
      case SYSTEMD_UNIT: return out.maybe_text(cgroup() ? kernel::systemd_unit(*cgroup()) : std::nullopt);
      case MNT_NS: return out.integer(dir_.ns("mnt"));
      case PID_NS: return out.integer(dir_.ns("pid"));
      case USER_NS: return out.integer(dir_.ns("user"));
      case UTS_NS: return out.integer(dir_.ns("uts"));
      case IPC_NS: return out.integer(dir_.ns("ipc"));
      case CGROUP_NS: return out.integer(dir_.ns("cgroup"));
      case NETNS: case NET_NS: return out.integer(dir_.ns("net"));
      default: return out.null();
    }
  }

 private:
  // Moves to the next process whose stat can be read (one may exit any time).
  void advance() {
    info_.reset();
    ids_.reset();
    cmdline_.reset();
    cgroup_.reset();
    while (at_ < pids_.size()) {
      dir_.open(pids_[at_++]);
      if (pidfd_first_) dir_.open_pidfd();
      if (auto s = dir_.stat(stat_buf_)) {
        stat_ = *s;
        return;
      }
    }
    at_ = pids_.size() + 1;
  }

  // The row's status ids, cmdline and cgroup path: read on first use
  // (outer optional: read yet; inner: present).
  const std::optional<kernel::ProcIds>& ids() {
    if (!ids_) {
      if (const auto& i = info()) {
        ids_.emplace(i->ids);
      } else {
        auto text = dir_.read("status", buf_);
        ids_.emplace(text ? kernel::parse_proc_ids(*text) : std::nullopt);
      }
    }
    return *ids_;
  }
  // The pidfd's answer: from the second row on (the first asks for it),
  // its pidfd is opened before its stat is read (ProcessDir::open_pidfd);
  // the first row reads status.
  const std::optional<kernel::PidfdInfo>& info() {
    if (!info_) {
      pidfd_first_ = true;
      info_.emplace(dir_.pidfd_info());
    }
    return *info_;
  }
  const std::optional<std::string_view>& cmdline() {
    if (!cmdline_) {
      auto text = dir_.read("cmdline", cmdline_buf_);
      cmdline_.emplace(text && !text->empty() ? text : std::nullopt);
    }
    return *cmdline_;
  }
  // Processes share cgroups: a path read once a scan serves every process
  // in that cgroup (by the cgroup id a pidfd gives; the cache is kept
  // small, a scan's paths only).
  const std::optional<std::string_view>& cgroup() {
    if (cgroup_) return *cgroup_;
    auto id = info() ? info()->cgroup_id : std::nullopt;
    if (auto known = id ? cgroups_.find(*id) : cgroups_.end(); known != cgroups_.end()) {
      cgroup_.emplace(known->second);
      return *cgroup_;
    }
    auto text = dir_.read("cgroup", cgroup_buf_);
    cgroup_.emplace(text ? kernel::cgroup_v2_path(*text) : std::nullopt);
    // Kept when the process did not move while its file was read.
    if (text && id && cgroups_.size() < kCgroupsKept) {
      auto now = dir_.pidfd_info();
      if (now && now->cgroup_id == id) cgroups_.emplace(*id, *cgroup_);
    }
    return *cgroup_;
  }
  void link(const char* name, Cell& out) {
    if (dir_.link(name, buf_)) return out.text(buf_);
    out.null();
  }

  const std::optional<std::string>& user_name(uint32_t uid) {
    auto it = users_.find(uid);
    if (it == users_.end()) it = users_.emplace(uid, kernel::user_name(uid)).first;
    return it->second;
  }

  std::vector<int> pids_;
  size_t at_ = 0;
  kernel::ProcessDir dir_;  // pids_[at_ - 1]
  kernel::ProcStat stat_;  // its comm views stat_buf_
  std::string stat_buf_, buf_, cmdline_buf_, cgroup_buf_;
  std::optional<std::optional<kernel::PidfdInfo>> info_;
  bool pidfd_first_ = false;  // a row asked for info(): open each pidfd before the stat
  std::optional<std::optional<kernel::ProcIds>> ids_;
  std::optional<std::optional<std::string_view>> cmdline_, cgroup_;  // view their buffers
  std::optional<int64_t> boot_time_;
  std::unordered_map<uint32_t, std::optional<std::string>> users_;
  static constexpr size_t kCgroupsKept = 1024;
  std::unordered_map<uint64_t, std::optional<std::string>> cgroups_;  // by cgroup id, this scan
};

}  // namespace

const TableDef kProcesses{
    "processes",
    "Processes, from /proc: identity, arguments, owner ids, memory, CPU time, terminal, cgroup (container, "
    "systemd unit) and namespaces.",
    kColumns,
    500,
    [] { return std::unique_ptr<Cursor>(new ProcessesCursor); },
};

}  // namespace netsql::vt
