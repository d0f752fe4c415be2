#include "kernel/open_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace netsql::kernel {

FdDir::FdDir(int proc, int pid) {
  char path[32];
  std::snprintf(path, sizeof path, "%d/fd", pid);
  int dfd = ::openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // exited, or not ours to read
  dir_ = ::fdopendir(dfd);
  if (!dir_) ::close(dfd);
}

FdDir::~FdDir() {
  if (dir_) ::closedir(dir_);
}

std::optional<int> FdDir::next() {
  if (!dir_) return std::nullopt;
  while (dirent* e = ::readdir(dir_)) {
    const char* end = e->d_name + std::strlen(e->d_name);
    int fd = 0;
    auto [p, ec] = std::from_chars(e->d_name, end, fd);
    if (ec != std::errc() || p != end || p == e->d_name || fd < 0) continue;  // ".", ".."
    name_ = e->d_name;
    return fd;
  }
  name_ = nullptr;
  return std::nullopt;
}

std::optional<struct stat> FdDir::stat() const {
  // stat follows the fd's magic link to the file itself: for a socket, its
  // inode, cheaper than readlink's "socket:[N]".
  struct stat st;
  if (!name_ || ::fstatat(::dirfd(dir_), name_, &st, 0) != 0) return std::nullopt;
  return st;
}

std::optional<std::string> FdDir::link() const {
  if (!name_) return std::nullopt;
  std::string text(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(::dirfd(dir_), name_, text.data(), text.size());
    if (n < 0) return std::nullopt;
    if (static_cast<size_t>(n) < text.size()) {
      text.resize(static_cast<size_t>(n));
      return text;
    }
    if (text.size() >= 65536) return text;  // longer than any path the kernel prints
    text.resize(text.size() * 4);
  }
}

namespace {

// The number after "\n<key>:" (or at the start) in fdinfo text.
template <class T>
std::optional<T> fdinfo_field(std::string_view text, std::string_view key, int base) {
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      size_t v = line.find_first_not_of(" \t", key.size() + 1);
      if (v == std::string_view::npos) return std::nullopt;
      T out{};
      auto [p, ec] = std::from_chars(line.data() + v, line.data() + line.size(), out, base);
      if (ec != std::errc()) return std::nullopt;
      return out;
    }
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<FdInfo> read_fdinfo(int proc, int pid, int fd) {
  char path[48];
  std::snprintf(path, sizeof path, "%d/fdinfo/%d", pid, fd);
  int f = ::openat(proc, path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return std::nullopt;
  // pos and flags are the first two lines; the rest (epoll targets,
  // inotify watches) can be long and is not needed.
  char buf[256];
  ssize_t n = ::read(f, buf, sizeof buf);
  ::close(f);
  if (n <= 0) return std::nullopt;
  std::string_view text(buf, static_cast<size_t>(n));
  auto pos = fdinfo_field<uint64_t>(text, "pos", 10);
  auto flags = fdinfo_field<uint32_t>(text, "flags", 8);
  if (!pos || !flags) return std::nullopt;
  return FdInfo{*pos, *flags};
}

std::string_view file_type(std::string_view link, const std::optional<struct stat>& st) {
  if (link.starts_with("socket:[")) return "socket";
  if (link.starts_with("pipe:[")) return "pipe";
  if (link.starts_with("anon_inode:")) return "anon_inode";
  if (!st) return "unknown";
  switch (st->st_mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "directory";
    case S_IFSOCK: return "socket";
    case S_IFIFO: return "pipe";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFLNK: return "symlink";
    default: return "unknown";
  }
}

std::string_view access_mode(uint32_t flags) {
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return "read";
    case O_WRONLY: return "write";
    default: return "read-write";
  }
}

OpenFileScan::OpenFileScan(std::vector<int> pids, Parts parts)
    : pids_(std::move(pids)), parts_(parts), proc_(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}

OpenFileScan::~OpenFileScan() = default;

bool OpenFileScan::next() {
  if (!proc_) return false;
  for (;;) {
    std::optional<int> fd = dir_ ? dir_->next() : std::nullopt;
    if (!fd) {
      if (next_pid_ >= pids_.size()) {
        dir_.reset();
        return false;
      }
      current_.pid = pids_[next_pid_++];
      dir_.emplace(proc_.get(), current_.pid);
      continue;
    }
    current_.fd = *fd;
    current_.link.reset();
    current_.st.reset();
    current_.info.reset();
    if (parts_.link && !(current_.link = dir_->link())) continue;  // closed meanwhile
    // A stat that fails for another reason than the fd having gone (EACCES
    // on another user's FUSE mount, ESTALE, EIO) keeps the row, with no
    // inode and a type from the link alone.
    if (parts_.stat && !(current_.st = dir_->stat()) && (errno == ENOENT || errno == ESRCH)) continue;
    if (parts_.info && !(current_.info = read_fdinfo(proc_.get(), current_.pid, *fd))) continue;
    return true;
  }
}

}  // namespace netsql::kernel
