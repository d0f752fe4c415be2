#include "kernel/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

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
    if (err == ENOENT || err == ENOTDIR) {
      if (digits && s[0] != '/') throw NetnsError("no such process: " + s);
      throw NetnsError("no such network namespace: " + s);
    }
    throw NetnsError("cannot open network namespace " + s + ": " + std::strerror(err));
  }
  int type = ::ioctl(ns.fd_.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) throw NetnsError("not a network namespace: " + s);
  struct stat st {};
  ::fstat(ns.fd_.get(), &st);
  ns.inode_ = st.st_ino;
  if (ns.inode_ == current_netns_inode()) ns.fd_.reset();  // our own: no helper thread needed
  return ns;
}

void Netns::enter() const {
  if (::setns(fd_.get(), CLONE_NEWNET) != 0) {
    int err = errno;
    if (err == EPERM) throw NetnsError("not permitted to enter network namespace " + spec_ + " (needs CAP_SYS_ADMIN)");
    throw NetnsError("cannot enter network namespace " + spec_ + ": " + std::strerror(err));
  }
}

NetlinkSocket Netns::netlink(int protocol) const {
  return run([protocol] { return NetlinkSocket(protocol); });
}

}  // namespace netsql::kernel
