// The /proc readers of procfs.h: every /proc file the tables read is
// opened here.
#include <dirent.h>
#include <fcntl.h>
#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <iterator>
#include <set>
#include <stdexcept>
#include <tuple>

#include "kernel/fd.h"
#include "kernel/netns.h"
#include "kernel/procfs.h"

namespace netsql::kernel {

std::optional<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

namespace {

// A /proc/net file of the namespace of the thread that opens it.
std::string net_file(const char* name) { return std::string("/proc/thread-self/net/") + name; }

// How the lines of a /proc table group into the kernel's records.
struct Layout {
  // `line` belongs to the record the line before it, `prev`, is in.
  bool (*continues)(std::string_view prev, std::string_view line);
  // A record that starts with `line` is the only one with that text.
  bool (*named)(std::string_view line);
};

bool starts_with_tab(std::string_view line) { return !line.empty() && line[0] == '\t'; }
bool never(std::string_view, std::string_view) { return false; }
bool always(std::string_view) { return true; }

// One record per line (igmp6, raw, raw6).
constexpr Layout kLines{never, always};
// igmp: a group's record opens with its interface's line when it is the
// interface's first group; the other groups' lines are alike across
// interfaces ("224.0.0.1, 1 user" on every one of them).
constexpr Layout kIgmp{[](std::string_view prev, std::string_view line) { return starts_with_tab(line) && !starts_with_tab(prev); },
                       [](std::string_view line) { return !starts_with_tab(line); }};
// dev_mcast: one record per interface, a line per address, each line
// starting with the interface index.
constexpr Layout kDevMcast{[](std::string_view prev, std::string_view line) {
                             return prev.substr(0, prev.find(' ')) == line.substr(0, line.find(' '));
                           },
                           always};

// One pread() at `at`: what one pass of the kernel's printer produced.
bool read_at(int fd, size_t at, std::string& out) {
  out.resize(std::max<size_t>(out.capacity(), 65536));
  for (;;) {
    ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (static_cast<size_t>(n) < out.size()) {
      out.resize(static_cast<size_t>(n));
      return true;
    }
    out.resize(out.size() * 2);  // may have been cut short: again, with room
  }
}

// Where the next read resumes, in text that grew from `from` on (a record
// boundary): the last record start there whose text is its own, else the
// last record start.
size_t next_anchor(std::string_view text, size_t from, const Layout& layout) {
  size_t named = std::string_view::npos, any = from;
  std::string_view prev;
  for (size_t at = from; at < text.size();) {
    size_t nl = text.find('\n', at);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(at, end - at - (nl == std::string_view::npos ? 0 : 1));
    if (at == from || !layout.continues(prev, line)) {
      any = at;
      if (layout.named(line)) named = at;
    }
    prev = line;
    at = end;
  }
  return named != std::string_view::npos ? named : any;
}

// Start of the last line of text (not empty).
size_t last_line(std::string_view text) {
  size_t nl = text.size() >= 2 ? text.rfind('\n', text.size() - 2) : std::string_view::npos;
  return nl == std::string_view::npos ? 0 : nl + 1;
}

constexpr int kSetbacks = 256;
const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

// A /proc table the kernel prints record by record (seq_file). One read()
// returns what fits in a page, and the next read() starts again at a
// record *number* in the list as it is by then: when the list changed in
// between, a record comes twice or is skipped (and in igmp, groups land
// under the wrong interface). So every read after the first starts at a
// record already held, its anchor (a pread() at its offset makes the
// kernel count its way there again), and counts only if that record comes
// back first: what follows is then its successor as the list is now. The
// end is found by a read from inside the last line, after which the kernel
// sends the rest of that line and then at least one record more if there
// is one: nothing more is the end; something more is taken from the
// anchor, or, if it does not fit beside the anchor, once a second look
// agrees. When the list moved, the file is read again from the start; a
// table that never holds still is an error. nullopt when the file cannot
// be opened or read.
std::optional<std::string> read_records(const std::string& path, const Layout& layout) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text, chunk, unconfirmed;
  size_t anchor = 0, at = 0;  // at: the anchor, or inside the last line when asking for the end
  for (int setbacks = 0; setbacks < kSetbacks;) {
    if (!read_at(fd.get(), at, chunk)) return std::nullopt;
    std::string_view held = std::string_view(text).substr(at);
    size_t n = std::min(chunk.size(), held.size());
    if (chunk.compare(0, n, held.substr(0, n)) != 0) {  // the list moved before `at`
      text.clear();
      unconfirmed.clear();
      anchor = at = 0;
      ++setbacks;
      continue;
    }
    std::string_view more = std::string_view(chunk).substr(n);
    if (more.empty()) {
      if (at != anchor || text.empty()) return text;
      at = last_line(text) + 1;
      continue;
    }
    if (at != anchor && more != unconfirmed) {  // not seen after a record that came back first
      setbacks += unconfirmed.empty() ? 0 : 1;
      unconfirmed = more;
      at = anchor;
      continue;
    }
    size_t from = text.size();
    text.append(more);
    unconfirmed.clear();
    anchor = next_anchor(text, from, layout);
    // Far from a full page, the kernel most likely stopped at the end:
    // asking for the end first saves a read.
    at = chunk.size() < kPage / 2 ? last_line(text) + 1 : anchor;
  }
  throw std::runtime_error(path + " kept changing while being read");
}

template <class Row>
void parse_table(const std::string& path, const Layout& layout, void (*parse)(std::string_view, std::vector<Row>&),
                 std::vector<Row>& rows) {
  if (auto text = read_records(path, layout)) parse(*text, rows);  // a missing file adds nothing
}

// A membership is listed once per file, by interface, family and group (and
// source): a repeat proves a read the list's changes misled after all (seen
// under load: one in a few thousand churned queries), so the file is read
// again, as for any other sign of change.
void parse_memberships(const std::string& path, const Layout& layout,
                       void (*parse)(std::string_view, std::vector<McastGroup>&), std::vector<McastGroup>& rows) {
  for (int attempt = 0; attempt < kSetbacks; ++attempt) {
    std::vector<McastGroup> part;
    parse_table(path, layout, parse, part);
    std::set<std::tuple<int, std::string_view, std::string_view, std::string_view>> seen;
    bool repeated = false;
    for (const auto& m : part) repeated = repeated || !seen.emplace(m.ifindex, m.family, m.group, m.source).second;
    if (!repeated) {
      std::move(part.begin(), part.end(), std::back_inserter(rows));
      return;
    }
  }
  throw std::runtime_error(path + " kept changing while being read");
}

}  // namespace

std::vector<Counter> protocol_counters(const Netns& ns) {
  return ns.run([] {  // on a thread in ns: thread-self/net is its namespace
    std::vector<Counter> rows;
    // Each printed whole by one call into the kernel: consistent as read.
    for (const char* f : {"snmp", "netstat"})
      if (auto text = read_file(net_file(f))) parse_snmp_pairs(*text, rows);
    if (auto text = read_file(net_file("snmp6"))) parse_snmp6(*text, rows);
    return rows;
  });
}

std::vector<McastGroup> multicast_groups(const Netns& ns) {
  return ns.run([] {
    std::vector<McastGroup> rows;
    parse_memberships(net_file("igmp"), kIgmp, parse_igmp, rows);
    parse_memberships(net_file("igmp6"), kLines, parse_igmp6, rows);
    parse_memberships(net_file("dev_mcast"), kDevMcast, parse_dev_mcast, rows);
    return rows;
  });
}

std::vector<RawSock> raw_sockets(const Netns& ns) {
  return ns.run([] {
    std::vector<RawSock> rows;
    for (const char* f : {"raw", "raw6"}) parse_table(net_file(f), kLines, parse_proc_raw, rows);
    return rows;
  });
}

std::vector<int> list_pids() {
  std::vector<int> pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  while (dirent* e = ::readdir(d)) {
    int pid = 0;
    const char* end = e->d_name + std::strlen(e->d_name);
    auto [p, ec] = std::from_chars(e->d_name, end, pid);
    if (ec == std::errc() && p == end && pid > 0) pids.push_back(pid);
  }
  ::closedir(d);
  std::sort(pids.begin(), pids.end());
  return pids;
}

namespace {

// "/proc/PID/<name>" written into out (size bytes, the name cut to fit): no
// allocation per process.
void pid_path(char* out, size_t size, int pid, const char* name) {
  char* p = out;
  std::memcpy(p, "/proc/", 6);
  p = std::to_chars(p + 6, out + 32, pid).ptr;
  *p++ = '/';
  size_t n = std::min(std::strlen(name), size - static_cast<size_t>(p - out) - 1);
  std::memcpy(p, name, n);
  p[n] = '\0';
}

// All of an open procfs file into buf: procfs reports size 0, so read from
// the start until a read comes back short of the room it had (one pread
// for stat and status). buf only grows, so no row pays for clearing it.
std::optional<std::string_view> read_all(int fd, std::string& buf) {
  if (buf.size() < 4096) buf.resize(4096);
  size_t have = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data() + have, buf.size() - have, static_cast<off_t>(have));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    have += static_cast<size_t>(n);
    if (n == 0 || have < buf.size()) return std::string_view(buf.data(), have);
    buf.resize(buf.size() * 2);
  }
}

// struct pidfd_info of <linux/pidfd.h> as Linux 6.13 introduced it (the
// headers we build with may predate it); later kernels fill what this size
// holds.
struct PidfdInfoV0 {
  __u64 mask, cgroupid;
  __u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare0;
};
static_assert(sizeof(PidfdInfoV0) == 64);  // PIDFD_INFO_SIZE_VER0
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfoV0);
constexpr __u64 kPidfdInfoCreds = 1u << 1, kPidfdInfoCgroupid = 1u << 2;

// Whether /proc numbers processes as the caller's pid namespace does (as
// pidfd_open does): our own status counts one pid from /proc's namespace
// down to ours only then.
bool proc_numbers_our_pids() {
  char path[] = "/proc/self/status";
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  std::string buf;
  auto text = fd ? read_all(fd.get(), buf) : std::nullopt;
  return text && parse_nspid_count(*text) == 1;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

ProcessDir::~ProcessDir() {
  close_fd(fd_);
  close_fd(pidfd_);
}

void ProcessDir::open(int pid) {
  close_fd(fd_);
  close_fd(pidfd_);
  pid_ = pid;
  entries_ = 0;
}

void ProcessDir::open_pidfd() {
  if (pidfds_ == Pidfds::Untried) pidfds_ = proc_numbers_our_pids() ? Pidfds::Usable : Pidfds::Unusable;
  if (pidfds_ == Pidfds::Unusable || pidfd_ >= 0) return;
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));  // close-on-exec
  // ENOSYS, EPERM (seccomp), EMFILE: status it is. ESRCH (gone) and EINVAL
  // (a thread's id, not a process's) concern this pid only.
  if (pidfd_ < 0 && errno != ESRCH && errno != EINVAL) pidfds_ = Pidfds::Unusable;
}

std::optional<PidfdInfo> ProcessDir::pidfd_info() {
  if (pidfds_ != Pidfds::Usable || pidfd_ < 0) return std::nullopt;
  PidfdInfoV0 info{};
  info.mask = kPidfdInfoCgroupid;
  if (::ioctl(pidfd_, kPidfdGetInfo, &info) != 0) {
    if (errno != ESRCH) pidfds_ = Pidfds::Unusable;  // ENOTTY, EINVAL: before 6.13
    return std::nullopt;
  }
  if (!(info.mask & kPidfdInfoCreds)) return std::nullopt;
  PidfdInfo out{{info.ruid, info.euid, info.suid, info.rgid, info.egid, info.sgid}, std::nullopt};
  if (info.mask & kPidfdInfoCgroupid) out.cgroup_id = info.cgroupid;
  return out;
}

int ProcessDir::base(const char*& name) {
  if (entries_++ == 0) {
    pid_path(path_, sizeof path_, pid_, name);
    name = path_;
    return AT_FDCWD;
  }
  if (fd_ < 0) {
    pid_path(path_, sizeof path_, pid_, "");
    fd_ = ::open(path_, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  return fd_;
}

std::optional<std::string_view> ProcessDir::read(const char* file, std::string& buf) {
  int dir = base(file);
  if (dir == -1) return std::nullopt;
  Fd fd(::openat(dir, file, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  return read_all(fd.get(), buf);
}

bool ProcessDir::link(const char* link, std::string& buf) {
  int dir = base(link);
  if (dir == -1) return false;
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(dir, link, target, sizeof target);
  if (n <= 0) return false;
  buf.assign(target, static_cast<size_t>(n));
  return true;
}

std::optional<uint64_t> ProcessDir::ns(const char* kind) {
  char name[32] = "ns/";
  std::strncat(name, kind, sizeof name - 4);
  const char* at = name;
  int dir = base(at);
  if (dir == -1) return std::nullopt;
  char link[64];  // "cgroup:[4026531835]"
  ssize_t n = ::readlinkat(dir, at, link, sizeof link);
  if (n <= 0) return std::nullopt;
  return bracket_inode(std::string_view(link, static_cast<size_t>(n)), kind);
}

std::optional<ProcStat> ProcessDir::stat(std::string& buf) {
  auto text = read("stat", buf);
  return text ? parse_proc_stat(*text) : std::nullopt;
}

std::optional<std::string> process_name(int pid) {
  char path[96];
  pid_path(path, sizeof path, pid, "comm");
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buf[256];  // a name and a newline: 16 bytes, 64 for kernel workers
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) < 0 && errno == EINTR) {
  }
  if (n < 0) return std::nullopt;
  std::string_view s(buf, static_cast<size_t>(n));
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return std::string(s);
}

std::optional<int64_t> boot_time() {
  auto text = read_file("/proc/stat");
  return text ? parse_boot_time(*text) : std::nullopt;
}

}  // namespace netsql::kernel
