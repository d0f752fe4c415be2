// The kernel half of the BPF owner scan (ext/kernel/owners_bpf.cpp): an
// iter/task_file program that writes one fixed-size record per socket fd of
// every process, in a single read() of the iterator.
//
// The few kernel structures it reads are declared here with
// preserve_access_index instead of coming from a vmlinux.h dumped from the
// build machine's BTF: libbpf relocates each field against the running
// kernel's BTF at load time, and the build stays reproducible.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define CORE __attribute__((preserve_access_index))

struct upid {
  int nr;
  void* ns;
} CORE;
struct pid {
  unsigned int level;
  struct upid numbers[1];
} CORE;
struct task_struct {
  int tgid;
  struct task_struct* group_leader;
  struct pid* thread_pid;
} CORE;
struct inode {
  unsigned short i_mode;
  unsigned long i_ino;
} CORE;
struct file {
  struct inode* f_inode;
} CORE;
struct seq_file;
struct bpf_iter_meta {
  struct seq_file* seq;
} CORE;
struct bpf_iter__task_file {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
  __u32 fd;
  struct file* file;
} CORE;

// Must match kernel::BpfSocketRecord.
struct record {
  __u32 pid;
  __u32 fd;
  __u64 inode;
};

// The caller's pid namespace level (set before load): pids are reported as
// the caller sees them, like /proc.
const volatile __u32 pid_level = 0;

#define S_IFMT 0170000
#define S_IFSOCK 0140000

SEC("iter/task_file")
int task_sockets(struct bpf_iter__task_file* ctx) {
  struct task_struct* task = ctx->task;
  struct file* file = ctx->file;
  if (!task || !file) return 0;
  // /proc/<pid>/fd lists the thread group leader's table only.
  if (task->group_leader != task) return 0;
  struct inode* inode = file->f_inode;
  if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK) return 0;
  struct record r = {.fd = ctx->fd, .inode = inode->i_ino};
  if (pid_level == 0) {
    r.pid = (__u32)task->tgid;
  } else {
    struct pid* p = BPF_CORE_READ(task, thread_pid);
    unsigned int level = BPF_CORE_READ(p, level);
    if (level < pid_level) return 0;  // not visible in the caller's namespace
    int nr = 0;
    if (bpf_core_read(&nr, sizeof nr, &p->numbers[pid_level].nr)) return 0;
    r.pid = (__u32)nr;
  }
  bpf_seq_write(ctx->meta->seq, &r, sizeof r);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
