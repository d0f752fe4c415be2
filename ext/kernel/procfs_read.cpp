// The /proc readers of procfs.h: every /proc file the tables read is
// opened here.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>

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

template <class Row>
void parse_table(const std::string& path, void (*parse)(std::string_view, std::vector<Row>&), std::vector<Row>& rows) {
  if (auto text = read_file(path)) parse(*text, rows);  // a missing file adds nothing
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
    parse_table(net_file("igmp"), parse_igmp, rows);
    parse_table(net_file("igmp6"), parse_igmp6, rows);
    parse_table(net_file("dev_mcast"), parse_dev_mcast, rows);
    return rows;
  });
}

std::vector<RawSock> raw_sockets(const Netns& ns) {
  return ns.run([] {
    std::vector<RawSock> rows;
    for (const char* f : {"raw", "raw6"}) parse_table(net_file(f), parse_proc_raw, rows);
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

std::string pid_file(int pid, const char* file) { return "/proc/" + std::to_string(pid) + "/" + file; }

std::optional<std::string> read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::optional<ProcStat> process_stat(int pid) {
  auto text = read_file(pid_file(pid, "stat"));
  return text ? parse_proc_stat(*text) : std::nullopt;
}

std::optional<std::string> process_name(int pid) {
  auto s = read_file(pid_file(pid, "comm"));
  if (s && !s->empty() && s->back() == '\n') s->pop_back();
  return s;
}

std::optional<std::string> process_cmdline(int pid) {
  auto raw = read_file(pid_file(pid, "cmdline"));
  if (!raw || raw->empty()) return std::nullopt;
  return join_cmdline(*raw);
}

std::optional<std::string> process_exe(int pid) { return read_link(pid_file(pid, "exe")); }

std::optional<std::pair<uint32_t, uint32_t>> process_ids(int pid) {
  auto text = read_file(pid_file(pid, "status"));
  return text ? parse_proc_ids(*text) : std::nullopt;
}

std::optional<uint64_t> process_netns(int pid) {
  auto link = read_link(pid_file(pid, "ns/net"));
  return link ? bracket_inode(*link, "net") : std::nullopt;
}

std::optional<int64_t> boot_time() {
  auto text = read_file("/proc/stat");
  return text ? parse_boot_time(*text) : std::nullopt;
}

}  // namespace netsql::kernel
