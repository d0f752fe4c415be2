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
struct ProcStat {
  int pid = 0, ppid = 0;
  std::string comm;
  char state = '?';
  int64_t threads = 0, rss_pages = 0;
  uint64_t utime_ticks = 0, stime_ticks = 0, start_ticks = 0, vsize = 0;
};
// /proc/PID/stat; the name may hold spaces and parentheses.
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// Real uid and gid from /proc/PID/status.
std::optional<std::pair<uint32_t, uint32_t>> parse_proc_ids(std::string_view text);
// /proc/PID/cmdline: NUL-separated arguments joined by spaces.
std::string join_cmdline(std::string_view raw);
// "btime" of /proc/stat: boot time, unix seconds.
std::optional<int64_t> parse_boot_time(std::string_view proc_stat);
// The inode in "socket:[12345]" or "net:[4026531840]"; nullopt otherwise.
std::optional<uint64_t> bracket_inode(std::string_view link, std::string_view kind);

// Numeric entries of /proc: every pid, ascending.
std::vector<int> list_pids();
// One process's files, each nullopt when the process is gone (or, for
// exe and netns, not ours to look into).
std::optional<ProcStat> process_stat(int pid);
std::optional<std::string> process_name(int pid);     // comm
std::optional<std::string> process_cmdline(int pid);  // nullopt too when empty (kernel threads)
std::optional<std::string> process_exe(int pid);
std::optional<std::pair<uint32_t, uint32_t>> process_ids(int pid);  // real uid, gid
std::optional<uint64_t> process_netns(int pid);                     // namespace inode
// Boot time from /proc/stat, unix seconds.
std::optional<int64_t> boot_time();

}  // namespace netsql::kernel
