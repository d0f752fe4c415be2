#include "kernel/owners_bpf.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernel/fd.h"
#include "kernel/procfs.h"

#if NETSQL_BPF
#include "kernel/bpf/task_sockets_load.h"  // loads the programs through their light skeletons
#include "kernel/bpf/wanted_table.h"       // the table task_owners reads
#endif

namespace netsql::kernel {

std::optional<OwnerMode> owner_mode_named(std::string_view name) {
  if (name == "auto") return OwnerMode::Auto;
  if (name == "proc") return OwnerMode::Proc;
  if (name == "bpf") return OwnerMode::Bpf;
  return std::nullopt;
}

std::string_view owner_mode_name(OwnerMode m) {
  switch (m) {
    case OwnerMode::Proc: return "proc";
    case OwnerMode::Bpf: return "bpf";
    default: return "auto";
  }
}

std::string_view owner_source_name(OwnerSource s) {
  switch (s) {
    case OwnerSource::Proc: return "proc";
    case OwnerSource::Bpf: return "bpf";
    default: return "";
  }
}

namespace {

// -1: not decided yet (NETSQL_OWNERS not read), -2: NETSQL_OWNERS is bad.
std::atomic<int> g_mode{-1};
std::atomic<int> g_last{static_cast<int>(OwnerSource::None)};

}  // namespace

OwnerMode owner_mode() {
  int m = g_mode.load();
  if (m == -1) {
    const char* env = std::getenv("NETSQL_OWNERS");
    auto named = owner_mode_named(env ? env : "auto");
    int want = named ? static_cast<int>(*named) : -2;
    g_mode.compare_exchange_strong(m, want);
    m = g_mode.load();
  }
  if (m == -2) throw std::runtime_error("NETSQL_OWNERS must be auto, proc or bpf");
  return static_cast<OwnerMode>(m);
}

void set_owner_mode(OwnerMode m) { g_mode.store(static_cast<int>(m)); }

OwnerSource last_owner_source() { return static_cast<OwnerSource>(g_last.load()); }
void note_owner_source(OwnerSource s) { g_last.store(static_cast<int>(s)); }

// Checked first so that an unprivileged caller does not try a load only to
// be refused.
std::string bpf_load_refusal() {
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) return "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
  // A BPF program and its iterator or tracepoint link need CAP_BPF and
  // CAP_PERFMON (or CAP_SYS_ADMIN).
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return std::string("capget: ") + std::strerror(errno);
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return "";
  return "loading BPF needs CAP_BPF and CAP_PERFMON";
}

#if NETSQL_BPF

namespace {

// How deep the caller's pid namespace is: NSpid lists one pid per level.
unsigned pid_level() {
  auto status = read_file("/proc/self/status");
  if (!status) return 0;
  size_t at = status->find("\nNSpid:");
  if (at == std::string::npos) return 0;
  size_t end = status->find('\n', at + 1);
  unsigned fields = 0;
  bool in_field = false;
  for (size_t i = at + 7; i < end && i < status->size(); ++i) {
    bool digit = (*status)[i] >= '0' && (*status)[i] <= '9';
    if (digit && !in_field) ++fields;
    in_field = digit;
  }
  return fields > 0 ? fields - 1 : 0;
}

// One program: loaded on first use while held, kept until the last holder
// releases it. A failed load is not retried while held.
template <class Skel>
struct Program {
  Skel* skel = nullptr;
  std::string failure;  // why the last load failed; kept while held

  void unload(void (*destroy)(Skel*)) {
    destroy(skel);  // detaches the link, closes every fd; NULL is fine
    skel = nullptr;
    failure.clear();
  }
  void load(Skel* (*open)(unsigned)) {
    if (skel || !failure.empty()) return;
    failure = bpf_load_refusal();
    if (!failure.empty()) return;
    skel = open(pid_level());
    if (!skel) failure = std::string("cannot load the BPF program: ") + std::strerror(errno);
  }
};

struct Loaded {
  std::mutex mutex;
  int holders = 0;
  Program<task_sockets_lskel> sockets;  // every socket fd
  Program<task_owners_lskel> owners;    // the owners of wanted sockets

  void unload() {
    sockets.unload(netsql_task_sockets_destroy);
    owners.unload(netsql_task_owners_destroy);
  }
};

// Process-wide and never destroyed before the last holder releases it.
Loaded& loaded() {
  static Loaded l;
  return l;
}

// Must match struct record in bpf/task_sockets.bpf.c.
struct Record {
  uint32_t pid;
  uint32_t fd;
  uint64_t inode;
};
static_assert(sizeof(Record) == 16);

// Reads the iterator to its end. False if it fails part way.
bool read_records(int iter, std::vector<SocketOwner>& out) {
  constexpr size_t kChunk = 64 * 1024;
  std::vector<char> buf(kChunk);
  size_t have = 0;  // bytes of an incomplete record carried over
  for (;;) {
    ssize_t n = ::read(iter, buf.data() + have, buf.size() - have);
    if (n < 0) {
      // EAGAIN: the kernel stops a read after a million objects with
      // nothing to show; the next read carries on.
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    if (n == 0) return have == 0;
    have += static_cast<size_t>(n);
    size_t whole = have / sizeof(Record) * sizeof(Record);
    for (size_t at = 0; at < whole; at += sizeof(Record)) {
      Record r;
      std::memcpy(&r, buf.data() + at, sizeof r);
      out.push_back({r.inode, static_cast<int>(r.pid), static_cast<int>(r.fd)});
    }
    std::memmove(buf.data(), buf.data() + whole, have - whole);
    have -= whole;
  }
}

// Puts each inode in the table, at most NETSQL_WANTED_PROBES slots from its
// home; false if one does not fit so.
bool fill_table(netsql_wanted_slot* table, std::span<const uint64_t> inodes) {
  std::memset(table, 0, sizeof(netsql_wanted_slot) * NETSQL_WANTED_SLOTS);
  for (uint64_t inode : inodes) {
    if (inode == 0) continue;
    uint32_t home = netsql_wanted_home(inode);
    for (uint32_t k = 0;; ++k) {
      if (k == NETSQL_WANTED_PROBES) return false;
      netsql_wanted_slot& s = table[(home + k) & (NETSQL_WANTED_SLOTS - 1)];
      if (s.inode == inode) break;
      if (s.inode == 0) {
        s.inode = inode;
        break;
      }
    }
  }
  return true;
}

// Reads the iterator to its end (the program writes nothing). False if a
// read fails.
bool run_to_end(int iter) {
  char buf[64];
  for (;;) {
    ssize_t n = ::read(iter, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return false;
  }
}

}  // namespace

bool lowest_owners_bpf(std::span<const uint64_t> inodes, std::vector<SocketOwner>& out) {
  static_assert(kMaxWantedSockets * 4 <= NETSQL_WANTED_SLOTS, "the table stays at most a quarter full");
  if (inodes.size() > kMaxWantedSockets || owner_mode() == OwnerMode::Proc) return false;
  Loaded& l = loaded();
  // The table is the program's, shared by every connection: one scan at a time.
  std::lock_guard lock(l.mutex);
  ++l.holders;
  l.owners.load(netsql_task_owners_load);
  bool ok = false;
  if (l.owners.skel) {
    netsql_wanted_slot* table = netsql_task_owners_table(l.owners.skel);
    Fd iter;
    if (fill_table(table, inodes)) iter.reset(netsql_task_owners_iter(l.owners.skel));
    if (iter && run_to_end(iter.get())) {
      for (uint32_t i = 0; i < NETSQL_WANTED_SLOTS; ++i)
        if (table[i].inode && table[i].pid)
          out.push_back({table[i].inode, static_cast<int>(table[i].pid), static_cast<int>(table[i].fd)});
      ok = true;
      note_owner_source(OwnerSource::Bpf);
    }
  }
  if (--l.holders == 0) l.unload();
  return ok;
}

void hold_bpf_owners() {
  std::lock_guard lock(loaded().mutex);
  ++loaded().holders;
}

void release_bpf_owners() {
  Loaded& l = loaded();
  std::lock_guard lock(l.mutex);
  if (--l.holders == 0) l.unload();
}

bool scan_owners_bpf(std::vector<SocketOwner>& out) {
  OwnerMode mode = owner_mode();
  if (mode == OwnerMode::Proc) return false;
  Loaded& l = loaded();
  Fd iter;
  {
    std::lock_guard lock(l.mutex);
    // Without a holder (a one-off scan) the program lives for this scan only.
    ++l.holders;
    l.sockets.load(netsql_task_sockets_load);
    if (l.sockets.skel) iter.reset(netsql_task_sockets_iter(l.sockets.skel));
    std::string failure = l.sockets.skel ? std::string(iter ? "" : "cannot start the BPF iterator") : l.sockets.failure;
    if (--l.holders == 0) l.unload();
    if (!iter) {
      if (mode == OwnerMode::Bpf) throw std::runtime_error("BPF owner scan unavailable: " + failure);
      return false;
    }
  }
  // The iterator fd keeps its own reference to the program: read it unlocked.
  size_t before = out.size();
  if (!read_records(iter.get(), out)) {
    out.resize(before);
    if (mode == OwnerMode::Bpf) throw std::runtime_error("BPF owner scan failed: " + std::string(std::strerror(errno)));
    return false;
  }
  note_owner_source(OwnerSource::Bpf);
  return true;
}

#else  // built with -DNETSQL_BPF=OFF

void hold_bpf_owners() {}
void release_bpf_owners() {}

bool lowest_owners_bpf(std::span<const uint64_t>, std::vector<SocketOwner>&) { return false; }

bool scan_owners_bpf(std::vector<SocketOwner>&) {
  if (owner_mode() == OwnerMode::Bpf)
    throw std::runtime_error("BPF owner scan unavailable: netsql was built with -DNETSQL_BPF=OFF");
  return false;
}

#endif

}  // namespace netsql::kernel
