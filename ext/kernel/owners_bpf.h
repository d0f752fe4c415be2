// Socket owners through a BPF iter/task_file program (bpf/task_sockets.bpf.c):
// the kernel walks every process's fd table itself and hands back one
// (pid, fd, inode) record per socket, instead of one stat() per fd of every
// process under /proc. Used by SocketOwners::scan when the caller may load
// BPF (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and the kernel has BTF;
// otherwise the /proc scan serves. When only a few sockets' owners are
// wanted, an iter/task program (bpf/task_owners.bpf.c) walks the fd tables
// faster still and keeps just those sockets' lowest owners. Part of the
// kernel layer.
//
// Host-process hygiene: the program is loaded through a light skeleton
// (bpf/task_sockets_load.c), plain bpf() syscalls with no libbpf, so no
// process-wide library state (log callback, RLIMIT_MEMLOCK) is touched and
// the kernel's BTF is not parsed in the caller. No threads, no signals.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/owners.h"

namespace netsql::kernel {

// Which path whole-machine owner scans take. auto: BPF when it can be
// loaded, else /proc. bpf: BPF or an error saying why not. proc: /proc.
enum class OwnerMode { Auto, Proc, Bpf };
// Which path served a scan.
enum class OwnerSource { None, Proc, Bpf };

// Why this process cannot load BPF programs (the kernel has no BTF, a
// capability is missing), or "" when it may try.
std::string bpf_load_refusal();

std::optional<OwnerMode> owner_mode_named(std::string_view name);
std::string_view owner_mode_name(OwnerMode m);
std::string_view owner_source_name(OwnerSource s);

// The mode of this process: from NETSQL_OWNERS (auto, proc or bpf; read
// once) until set_owner_mode. Throws std::runtime_error naming a bad value.
OwnerMode owner_mode();
void set_owner_mode(OwnerMode m);

// The path that served the most recent owner scan in this process.
OwnerSource last_owner_source();
void note_owner_source(OwnerSource s);

// While anyone holds the BPF owner scan (a database connection does, from
// open to close) the program stays loaded between scans, and a failed load
// is not retried. The last release unloads it: no program, link or fd stays.
void hold_bpf_owners();
void release_bpf_owners();

// Appends every socket fd of every process the caller can see and returns
// true. Returns false, leaving `out` alone, when the mode is proc, or it is
// auto and BPF is unavailable; throws std::runtime_error saying why when
// the mode is bpf and BPF is unavailable.
bool scan_owners_bpf(std::vector<SocketOwner>& out);

// The most sockets lowest_owners_bpf takes at once.
inline constexpr size_t kMaxWantedSockets = 1024;

// Appends, for each of `inodes` that some process holds, its lowest pid
// and that process's lowest fd for it, and returns true. Returns false,
// leaving `out` alone, when the mode is proc, when this program cannot be
// loaded (then the whole-machine scan decides: it may still work, or say
// why not), or when the inodes are too many (kMaxWantedSockets) or collide
// too much for the kernel's table.
bool lowest_owners_bpf(std::span<const uint64_t> inodes, std::vector<SocketOwner>& out);

}  // namespace netsql::kernel
