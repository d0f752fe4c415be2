// /proc, where it is the only source: protocol counters, multicast
// memberships, raw sockets, processes. Parsers take text (std::string_view)
// so they run on recorded fixtures; readers (procfs_read.cpp) are thin and
// the only code that opens /proc files. Part of the kernel layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netsql::kernel {

class Netns;

// The whole of a small file (procfs reports size 0, so read until EOF);
// nullopt if it cannot be opened (gone, or not permitted).
std::optional<std::string> read_file(const std::string& path);

// ---- protocol counters (/proc/net/snmp, netstat, snmp6) ----
struct Counter {
  std::string protocol, name;
  int64_t value;
};
// "Proto: Name1 Name2" / "Proto: v1 v2" line pairs. A value line whose
// protocol differs from the header before it starts over (the header is
// dropped); extra names or values beyond the shorter line are dropped;
// tokens that are not integers are skipped.
void parse_snmp_pairs(std::string_view text, std::vector<Counter>& out);
// "Ip6InReceives 42" lines; the protocol is the name's prefix up to and
// including its first '6' (Ip6, Icmp6, Udp6, UdpLite6).
void parse_snmp6(std::string_view text, std::vector<Counter>& out);
// Every counter of the namespace: /proc/net/snmp, netstat and snmp6.
std::vector<Counter> protocol_counters(const Netns& ns);

// ---- multicast memberships ----
struct McastGroup {
  int ifindex = 0;
  std::string interface, family, group, source;
  int64_t users = 0;
};
void parse_igmp(std::string_view text, std::vector<McastGroup>& out);       // /proc/net/igmp
void parse_igmp6(std::string_view text, std::vector<McastGroup>& out);      // /proc/net/igmp6
void parse_dev_mcast(std::string_view text, std::vector<McastGroup>& out);  // /proc/net/dev_mcast
// Every membership of the namespace: igmp, igmp6, then dev_mcast.
std::vector<McastGroup> multicast_groups(const Netns& ns);

// ---- raw sockets (/proc/net/raw, raw6) ----
struct RawSock {
  std::string family, local, remote;  // family 'inet' / 'inet6'
  int protocol = 0, state = 0;
  int64_t send_q = 0, recv_q = 0;
  std::optional<int64_t> drops;  // absent from lines without the field
  uint32_t uid = 0;
  uint64_t inode = 0;
};
// Lines of /proc/net/raw or raw6; addresses are host-endian hex words.
void parse_proc_raw(std::string_view text, std::vector<RawSock>& out);
// Every raw socket of the namespace: /proc/net/raw, then raw6.
std::vector<RawSock> raw_sockets(const Netns& ns);

// ---- processes ----
// /proc/PID/stat. comm views the text it was parsed from.
struct ProcStat {
  int pid = 0, ppid = 0, pgroup = 0, session = 0, nice = 0;
  uint32_t tty_nr = 0;  // the kernel's encoding: minor bits 0-7 and 20-31, major bits 8-19
  std::string_view comm;
  char state = '?';
  int64_t threads = 0, rss_pages = 0;
  uint64_t utime_ticks = 0, stime_ticks = 0, start_ticks = 0, vsize = 0;
};
// /proc/PID/stat; the name may hold spaces and parentheses.
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// The "Uid:" and "Gid:" lines of /proc/PID/status: real, effective, saved.
struct ProcIds {
  uint32_t uid = 0, euid = 0, suid = 0, gid = 0, egid = 0, sgid = 0;
};
std::optional<ProcIds> parse_proc_ids(std::string_view text);
// The "NSpid:" line of /proc/PID/status: the process's pid in each pid
// namespace from that of the /proc mount down to its own; how many there
// are (0 without the line, before Linux 4.1).
size_t parse_nspid_count(std::string_view text);
// What a pidfd tells of a process (PIDFD_GET_INFO, Linux 6.13).
struct PidfdInfo {
  ProcIds ids;
  std::optional<uint64_t> cgroup_id;  // the id of its cgroup v2 (its directory's inode)
};
// A controlling terminal's name from stat's tty_nr, as ps prints it for
// the usual ones: "pts/N" (majors 136-143), "ttyN" (4, minors 0-63),
// "ttySN" (4, minors 64-255), "tty" (5:0), "console" (5:1); any other
// device as "MAJOR:MINOR"; nullopt for none (0).
std::optional<std::string> tty_name(uint32_t tty_nr);

// /proc/PID/cmdline holds each argument followed by a NUL (a process that
// rewrote its arguments may leave the last one without). Calls f(arg) for
// every argument, empty ones included; none for "" (kernel threads).
template <class F>
void for_each_arg(std::string_view raw, F&& f) {
  if (raw.empty()) return;
  if (raw.back() == '\0') raw.remove_suffix(1);
  for (;;) {
    size_t nul = raw.find('\0');
    f(raw.substr(0, nul));
    if (nul == std::string_view::npos) return;
    raw.remove_prefix(nul + 1);
  }
}
// The arguments joined by single spaces, each one as a POSIX shell word: as
// it is when non-empty and made only of letters, digits and @%+=:,./-_;
// otherwise in single quotes, a ' inside written '\'' (so "" is '' and
// "a b" is 'a b'). Bytes are kept as they are (newlines, non-UTF-8), so
// `eval "set -- $cmdline"` gives back argv exactly.
void join_cmdline(std::string_view raw, std::string& out);  // replaces out's text
// The arguments as a JSON array of strings, valid UTF-8 JSON whatever the
// bytes: ", \\ and control characters escaped as JSON does (\n, \u001b);
// valid UTF-8 kept; each byte that is not part of valid UTF-8 written as
// the private-use character U+F780 + (byte - 0x80), i.e. \uf7ff for 0xff.
void cmdline_json(std::string_view raw, std::string& out);  // replaces out's text
// "btime" of /proc/stat: boot time, unix seconds.
std::optional<int64_t> parse_boot_time(std::string_view proc_stat);
// The inode in "socket:[12345]" or "net:[4026531840]"; nullopt otherwise.
std::optional<uint64_t> bracket_inode(std::string_view link, std::string_view kind);

// Numeric entries of /proc: every pid, ascending.
std::vector<int> list_pids();
// One process's entries under /proc/PID, read at most once a row by the
// processes table. The first entry is read through its full path; from the
// second on, through a descriptor of /proc/PID (opened then, O_PATH), so
// that each further read walks one name instead of /proc, the pid and the
// name (the pid's lookup and revalidation were a fifth of SELECT *).
class ProcessDir {
 public:
  ProcessDir() = default;
  ProcessDir(const ProcessDir&) = delete;
  ProcessDir& operator=(const ProcessDir&) = delete;
  ~ProcessDir();
  // Moves to process pid: closes the previous one's descriptor.
  void open(int pid);
  int pid() const { return pid_; }
  // <file> ("stat", "status", "cmdline", "cgroup"): its text, read into
  // buf, which only grows (no allocation per process once it holds the
  // largest file); nullopt when the process is gone or not ours to look into.
  std::optional<std::string_view> read(const char* file, std::string& buf);
  // The target of the link <link> ("exe", "cwd", "root") into buf; false as read.
  bool link(const char* link, std::string& buf);
  // The inode of ns/<kind> (kind "net", "mnt", "pid", ...).
  std::optional<uint64_t> ns(const char* kind);
  // stat read into buf and parsed (comm views buf); nullopt when gone.
  std::optional<ProcStat> stat(std::string& buf);
  // Opens a pidfd of the process, before anything of it is read: while
  // pidfd_info() answers, its process is alive, so the pid was not reused
  // since and what was read is that process's. Does nothing where pidfds
  // cannot serve (see pidfd_info).
  void open_pidfd();
  // The ids and cgroup v2 id, from the pidfd (PIDFD_GET_INFO): no text made,
  // where status renders signal masks and CPU lists (the dearest file of a
  // row; its ids cost a third as much this way). Each call asks again.
  // nullopt when no pidfd was opened, the process is gone, the kernel has
  // no PIDFD_GET_INFO, pidfds are refused (seccomp), or /proc numbers
  // processes in another pid namespace than the caller's (pidfd_open takes
  // the caller's numbers): read status then.
  std::optional<PidfdInfo> pidfd_info();

 private:
  // The descriptor to read `name` relative to, with `name` rewritten to a
  // full path (path_) while none is open and none was used; -1 when gone.
  int base(const char*& name);

  int pid_ = 0;
  int fd_ = -1;
  int entries_ = 0;  // read for this pid so far
  char path_[96];
  int pidfd_ = -1;  // of pid_, once pidfd_info() opened it
  enum class Pidfds : uint8_t { Untried, Usable, Unusable } pidfds_ = Pidfds::Untried;
};
std::optional<std::string> process_name(int pid);  // comm
// Boot time from /proc/stat, unix seconds.
std::optional<int64_t> boot_time();

}  // namespace netsql::kernel
