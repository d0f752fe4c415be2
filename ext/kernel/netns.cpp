#include "kernel/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "kernel/owners.h"
#include "kernel/procfs.h"

namespace netsql::kernel {

uint64_t current_netns_inode() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) return 0;
  return st.st_ino;
}

namespace {

constexpr std::string_view kBoundDir = "/run/netns/";

// What a path turned out to be.
enum class Found {
  Net,        // a network namespace; Probe::fd is open on it
  Missing,    // nothing there (or the process is gone); Probe::err says which
  Unmounted,  // an empty regular file: a mount point with no namespace on it
  Other,      // something else; Probe::what says what
};

struct Probe {
  Found found = Found::Other;
  Fd fd;
  int err = 0;
  std::string_view what;  // for Other: "a FIFO", "a directory", ...; "" for a file
};

std::string_view file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    default: return "";
  }
}

// Looks at `path` without opening anything that could block or act on
// open: O_PATH opens no file (no FIFO wait, no tty, no device driver), and
// fstat/fstatfs read only the inode. Only a file on nsfs is then opened for
// real, through the O_PATH fd itself (/proc/thread-self/fd/N: the same
// inode, however the path changed meanwhile), because setns() and the
// NS_GET_NSTYPE ioctl refuse O_PATH fds.
Probe probe(const std::string& path) {
  Probe p;
  Fd at(::open(path.c_str(), O_PATH | O_CLOEXEC));
  struct stat st {};
  struct statfs fs {};
  if (!at || ::fstat(at.get(), &st) != 0 || ::fstatfs(at.get(), &fs) != 0) {
    p.found = Found::Missing;
    p.err = errno;
    return p;
  }
  if (!S_ISREG(st.st_mode) || fs.f_type != NSFS_MAGIC) {
    p.found = S_ISREG(st.st_mode) && st.st_size == 0 ? Found::Unmounted : Found::Other;
    p.what = file_kind(st.st_mode);
    return p;
  }
  p.fd.reset(::open(("/proc/thread-self/fd/" + std::to_string(at.get())).c_str(),
                    O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!p.fd) {
    p.found = Found::Missing;
    p.err = errno;
    return p;
  }
  p.found = ::ioctl(p.fd.get(), NS_GET_NSTYPE) == CLONE_NEWNET ? Found::Net : Found::Other;
  if (p.found != Found::Net) p.fd.reset();
  return p;
}

// ip netns binds each namespace on an empty file in /run/netns; deleting
// one unmounts it first and unlinks the file after, and adding one creates
// the file first and mounts after.
bool in_bound_dir(std::string_view path) {
  return path.size() > kBoundDir.size() && path.substr(0, kBoundDir.size()) == kBoundDir &&
         path.find('/', kBoundDir.size()) == std::string_view::npos;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\0') out += "\\0";
    else out += c;
  }
  return out;
}

// True when `path` is /proc/PID/ns/net of a process that is exiting or
// gone: the kernel refuses (EACCES) to open the namespace of a task that is
// tearing down, which must read as vanished, not as a lack of privilege.
bool process_exiting(const std::string& path) {
  if (path.rfind("/proc/", 0) != 0) return false;
  std::string stat = path.substr(0, path.size() - std::string_view("ns/net").size()) + "stat";
  Fd fd(::open(stat.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return true;
  char buf[512];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return true;
  std::string_view text(buf, static_cast<size_t>(n));
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return true;
  char state = text[close + 2];
  return state == 'Z' || state == 'X' || state == 'x';
}

}  // namespace

Netns Netns::open(std::string_view spec) {
  if (spec.find('\0') != std::string_view::npos)
    throw NetnsError("invalid network namespace " + printable(spec) + ": contains a NUL byte");
  std::string s(spec);
  if (s.empty()) throw NetnsError("no such network namespace: ''");
  std::string path;
  bool digits = s.find_first_not_of("0123456789") == std::string::npos;
  if (s[0] == '/') {
    path = s;
  } else if (s.find('/') != std::string::npos || s == "." || s == "..") {
    throw NetnsError("no such network namespace: " + s);
  } else if (struct stat st {}; !digits || ::lstat((std::string(kBoundDir) + s).c_str(), &st) == 0) {
    path = std::string(kBoundDir) + s;  // a name (a bound name wins over a pid)
  } else {
    path = "/proc/" + s + "/ns/net";
  }
  Probe p = probe(path);
  switch (p.found) {
    case Found::Net: break;
    case Found::Missing:
      if ((p.err == EACCES || p.err == EPERM) && process_exiting(path)) {
        if (s[0] == '/') throw NetnsGone("no such network namespace: " + s);
        throw NetnsError("no such process: " + s);
      }
      if (p.err == EACCES || p.err == EPERM)
        throw NetnsError("not permitted to open network namespace " + s + " (needs root or CAP_SYS_ADMIN)");
      if (p.err == ENOENT || p.err == ENOTDIR || p.err == ESRCH) {
        if (s[0] == '/') throw NetnsGone("no such network namespace: " + s);
        if (path.rfind("/proc/", 0) == 0) throw NetnsError("no such process: " + s);
        throw NetnsError("no such network namespace: " + s);
      }
      throw NetnsError("cannot open network namespace " + s + ": " + std::strerror(p.err));
    case Found::Unmounted:
      // A bound name between the unmount and the unlink of `ip netns del`
      // (or the create and the mount of `ip netns add`): vanished, as if
      // the file were gone already. Elsewhere an empty file is just a file.
      if (in_bound_dir(path)) throw NetnsGone("network namespace " + s + " is no longer mounted");
      [[fallthrough]];
    case Found::Other:
      if (p.what.empty()) throw NetnsError("not a network namespace: " + s);
      throw NetnsError("not a network namespace: " + s + " (" + std::string(p.what) + ")");
  }
  Netns ns;
  ns.spec_ = s;
  ns.fd_ = std::move(p.fd);
  struct stat st {};
  ::fstat(ns.fd_.get(), &st);
  if (st.st_ino == current_netns_inode()) ns.fd_.reset();  // our own: no helper thread needed
  return ns;
}

void Netns::enter() const {
  if (::setns(fd_.get(), CLONE_NEWNET) != 0) {
    int err = errno;
    if (err == EPERM || err == EACCES)
      throw NetnsError("not permitted to enter network namespace " + spec_ + " (needs root or CAP_SYS_ADMIN)");
    throw NetnsError("cannot enter network namespace " + spec_ + ": " + std::strerror(err));
  }
}

NetlinkSocket Netns::netlink(int protocol) const {
  return run([protocol] { return NetlinkSocket(protocol); });
}

std::vector<NetnsInfo> list_network_namespaces() {
  std::map<uint64_t, NetnsInfo> found;
  if (DIR* d = ::opendir(std::string(kBoundDir).c_str())) {
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string path = std::string(kBoundDir) + n;
      Probe p = probe(path);
      if (p.found != Found::Net) continue;  // not (or no longer) mounted
      struct stat st {};
      ::fstat(p.fd.get(), &st);
      NetnsInfo& info = found[st.st_ino];
      if (info.name.empty()) {
        info.inode = st.st_ino;
        info.name = n;
        info.path = path;
      }
    }
  }
  for (int pid : list_pids()) {
    char link[64];
    std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    ssize_t n = ::readlink(path.c_str(), link, sizeof link);
    if (n <= 0) continue;  // gone, or not ours to see
    auto ino = bracket_inode(std::string_view(link, static_cast<size_t>(n)), "net");
    if (!ino) continue;
    NetnsInfo& info = found[*ino];
    info.inode = *ino;
    if (info.pid == 0) info.pid = pid;  // pids come in ascending order
    if (info.path.empty()) info.path = path;
    ++info.processes;
  }
  std::vector<NetnsInfo> out;
  for (auto& [ino, info] : found) out.push_back(std::move(info));
  return out;
}

}  // namespace netsql::kernel
