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
#include "kernel/bpf/task_sockets_load.h"  // loads the program through its light skeleton
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

#if NETSQL_BPF

namespace {

// Both a BPF program and its iterator need CAP_BPF and CAP_PERFMON (or
// CAP_SYS_ADMIN). Checked first so that an unprivileged caller does not
// try a load only to be refused.
bool may_load_bpf() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}

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

struct Loaded {
  std::mutex mutex;
  int holders = 0;
  task_sockets_lskel* skel = nullptr;
  std::string failure;  // why the last load failed; kept while held

  void unload() {
    netsql_task_sockets_destroy(skel);  // detaches the link, closes every fd
    skel = nullptr;
    failure.clear();
  }

  // Loads the program unless loaded or already failed while held.
  void load() {
    if (skel || !failure.empty()) return;
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
      failure = "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
      return;
    }
    if (!may_load_bpf()) {
      failure = "loading BPF needs CAP_BPF and CAP_PERFMON";
      return;
    }
    skel = netsql_task_sockets_load(pid_level());
    if (!skel) failure = std::string("cannot load the BPF program: ") + std::strerror(errno);
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

}  // namespace

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
    l.load();
    if (l.skel) iter.reset(netsql_task_sockets_iter(l.skel));
    std::string failure = l.skel ? std::string(iter ? "" : "cannot start the BPF iterator") : l.failure;
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

bool scan_owners_bpf(std::vector<SocketOwner>&) {
  if (owner_mode() == OwnerMode::Bpf)
    throw std::runtime_error("BPF owner scan unavailable: netsql was built with -DNETSQL_BPF=OFF");
  return false;
}

#endif

}  // namespace netsql::kernel
