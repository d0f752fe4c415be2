// The kernel half of the BPF owner scan (ext/kernel/owners_bpf.cpp): an
// iter/task_file program that writes one fixed-size record per socket fd of
// every process, in a single read() of the iterator.
#include "task_common.h"

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
  if (!visible_pid(task, &r.pid)) return 0;
  bpf_seq_write(ctx->meta->seq, &r, sizeof r);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
