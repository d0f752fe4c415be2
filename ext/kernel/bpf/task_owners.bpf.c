// The kernel half of the owner scan for a few known sockets
// (ext/kernel/owners_bpf.cpp): an iter/task program that walks each
// process's fd table itself and, for every fd whose inode is one of the
// wanted ones (a table user space fills in .bss), keeps the lowest pid that
// holds it. Nothing is written to the iterator: user space reads the table.
//
// Why not iter/task_file: that iterator takes and drops a reference on
// every file and runs the program once per fd, ~250 ns an fd even when the
// program does nothing. Here one call per process reads the fd array 64
// slots at a time and only two fields per open fd (file->f_inode, then
// inode->i_ino), each pass over a chunk issuing its loads independently so
// that the cache misses overlap: ~40 ns an fd.
//
// CO-RE (task_common.h): the few kernel structures are declared there and
// relocated against the running kernel's BTF at load time. Needs
// bpf_loop (5.17) and the bpf_rdonly_cast kfunc (6.2); older kernels fail
// the load and the whole-machine scan serves.
#include <linux/types.h>
#include <linux/bpf.h>

#include "task_common.h"
#include "wanted_table.h"

struct bpf_iter_meta;
struct bpf_iter__task {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
} CORE;

extern void* bpf_rdonly_cast(const void* obj, __u32 btf_id) __ksym;
// Open-coded number iterators (6.4): the verifier checks a loop body until
// its states converge instead of once per iteration (plain loops over 64
// fds made loading take ~100 ms).
struct bpf_iter_num {
  __u64 opaque[1];
} __attribute__((aligned(8)));
extern int bpf_iter_num_new(struct bpf_iter_num* it, int start, int end) __ksym;
extern int* bpf_iter_num_next(struct bpf_iter_num* it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num* it) __ksym;

// Filled by user space before each scan (wanted_table.h).
struct netsql_wanted_slot wanted[NETSQL_WANTED_SLOTS];

#define CHUNK 64

// One chunk's scratch: its 64 fd slots (file pointers, then inode
// numbers), and their inodes' addresses.
struct scratch {
  __u64 v[2 * CHUNK];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct scratch* chunk_scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&scratch, &zero);
}

struct walk {
  struct task_struct* task;
  struct files_struct* files;
  __u64 fds;       // struct file** of the fd table
  __u64 open_fds;  // its bitmap
  __u32 max_fds;
  __u32 pid;
};

// The slot of `number` in the table, -1 if it is not wanted. A global
// function: the verifier checks it once, not once per call site.
__attribute__((noinline)) int wanted_slot(__u64 number) {
  __u32 home = netsql_wanted_home(number);
  for (__u32 k = 0; k < NETSQL_WANTED_PROBES; k++) {
    __u32 at = (home + k) & (NETSQL_WANTED_SLOTS - 1);
    if (wanted[at].inode == number) return (int)at;
    if (wanted[at].inode == 0) return -1;
  }
  return -1;
}

// Keeps fd `fd` in the table if inode `number` (at `inode`) is a wanted
// socket. False when the task no longer has the fd table we are reading.
static __always_inline bool keep_if_wanted(struct walk* w, __u64 number, __u64 inode, __u32 fd) {
  int at = wanted_slot(number);
  if (at < 0) return true;
  struct netsql_wanted_slot* slot = &wanted[at & (NETSQL_WANTED_SLOTS - 1)];
  struct inode* in = bpf_rdonly_cast((void*)inode, bpf_core_type_id_kernel(struct inode));
  if ((in->i_mode & S_IFMT) != S_IFSOCK) return true;
  // The fd table was read without the task's lock: count it only while
  // the task still has it (an exiting task drops it before freeing it).
  struct task_struct* task = w->task;
  if (BPF_CORE_READ(task, files) != w->files) return false;
  if (slot->pid == 0 || w->pid < slot->pid || (w->pid == slot->pid && fd < slot->fd)) {
    slot->pid = w->pid;
    slot->fd = fd;
  }
  return true;
}

// Three passes over the chunk, each one's loads independent of each other
// so that their cache misses overlap. Each pass steps through the chunk
// STEP slots at a time (an unrolled inner loop): fewer iterator calls, and
// the verifier still checks only a few copies of each body.
#define STEP 4
static long walk_chunk(__u32 i, struct walk* w) {
  __u32 base = i * CHUNK;
  if (base >= w->max_fds) return 1;
  __u64 open = 0;
  if (bpf_probe_read_kernel(&open, sizeof open, (void*)(w->open_fds + i * sizeof open)) || !open) return 0;
  struct scratch* s = chunk_scratch();
  if (!s || bpf_probe_read_kernel(s->v, CHUNK * 8, (void*)(w->fds + base * 8))) return 1;
  struct bpf_iter_num it;
  int* at;
  bpf_iter_num_new(&it, 0, CHUNK / STEP);
  while ((at = bpf_iter_num_next(&it))) {  // v[64 + j] = slot j's file->f_inode
    __u32 first = ((__u32)*at * STEP) & (CHUNK - STEP);
#pragma unroll
    for (__u32 j = first; j < first + STEP; j++) {
      __u64 inode = 0;
      if (((open >> j) & 1) && s->v[j]) {
        struct file* f = bpf_rdonly_cast((void*)s->v[j], bpf_core_type_id_kernel(struct file));
        inode = (__u64)f->f_inode;
      }
      s->v[CHUNK + j] = inode;
    }
  }
  bpf_iter_num_destroy(&it);
  __u64 maybe = 0;  // fds whose inode's home slot is taken: worth a lookup
  bpf_iter_num_new(&it, 0, CHUNK / STEP);
  while ((at = bpf_iter_num_next(&it))) {  // v[j] = its inode number
    __u32 first = ((__u32)*at * STEP) & (CHUNK - STEP);
#pragma unroll
    for (__u32 j = first; j < first + STEP; j++) {
      if (!s->v[CHUNK + j]) continue;
      struct inode* in = bpf_rdonly_cast((void*)s->v[CHUNK + j], bpf_core_type_id_kernel(struct inode));
      __u64 number = in->i_ino;
      s->v[j] = number;
      if (wanted[netsql_wanted_home(number) & (NETSQL_WANTED_SLOTS - 1)].inode) maybe |= 1ull << j;
    }
  }
  bpf_iter_num_destroy(&it);
  bool ok = true;
  bpf_iter_num_new(&it, 0, CHUNK);
  while (maybe && (at = bpf_iter_num_next(&it))) {
    __u32 j = (__u32)*at & (CHUNK - 1);
    if (!((maybe >> j) & 1)) continue;
    maybe &= ~(1ull << j);
    if (!keep_if_wanted(w, s->v[j], s->v[CHUNK + j], base + j)) {
      ok = false;
      break;
    }
  }
  bpf_iter_num_destroy(&it);
  return ok ? 0 : 1;
}

SEC("iter/task")
int task_owners(struct bpf_iter__task* ctx) {
  struct task_struct* task = ctx->task;
  // /proc/<pid>/fd lists the thread group leader's table only.
  if (!task || task->group_leader != task) return 0;
  struct files_struct* files = BPF_CORE_READ(task, files);
  if (!files) return 0;
  struct walk w = {.task = task, .files = files};
  if (!visible_pid(task, &w.pid)) return 0;
  struct fdtable* fdt = BPF_CORE_READ(files, fdt);
  w.max_fds = BPF_CORE_READ(fdt, max_fds);
  w.fds = (__u64)BPF_CORE_READ(fdt, fd);
  w.open_fds = (__u64)BPF_CORE_READ(fdt, open_fds);
  bpf_loop((w.max_fds + CHUNK - 1) / CHUNK, walk_chunk, &w, 0);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
