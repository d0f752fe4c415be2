#include "kernel/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

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

Netns Netns::open(std::string_view spec) {
  std::string s(spec);
  if (s.empty()) throw NetnsError("no such network namespace: ''");
  std::string path;
  bool digits = s.find_first_not_of("0123456789") == std::string::npos;
  if (s[0] == '/') {
    path = s;
  } else if (s.find('/') != std::string::npos || s == "." || s == "..") {
    throw NetnsError("no such network namespace: " + s);
  } else if (struct stat st {}; !digits || ::stat(("/run/netns/" + s).c_str(), &st) == 0) {
    path = "/run/netns/" + s;  // a name (a bound name wins over a pid)
  } else {
    path = "/proc/" + s + "/ns/net";
  }
  Netns ns;
  ns.spec_ = s;
  ns.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.fd_) {
    int err = errno;
    if (err == EACCES || err == EPERM)
      throw NetnsError("not permitted to open network namespace " + s + " (needs root or CAP_SYS_ADMIN)");
    if (err == ENOENT || err == ENOTDIR || err == ESRCH) {
      if (s[0] == '/') throw NetnsGone("no such network namespace: " + s);
      if (digits) throw NetnsError("no such process: " + s);
      throw NetnsError("no such network namespace: " + s);
    }
    throw NetnsError("cannot open network namespace " + s + ": " + std::strerror(err));
  }
  int type = ::ioctl(ns.fd_.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) throw NetnsError("not a network namespace: " + s);
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
  if (DIR* d = ::opendir("/run/netns")) {
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string path = "/run/netns/" + n;
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd || ::ioctl(fd.get(), NS_GET_NSTYPE) != CLONE_NEWNET) continue;  // not (or no longer) mounted
      struct stat st {};
      ::fstat(fd.get(), &st);
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
