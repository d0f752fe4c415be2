// What both owner programs (task_sockets.bpf.c, task_owners.bpf.c) read of
// the kernel: the few structures, declared with preserve_access_index
// instead of coming from a vmlinux.h dumped from the build machine's BTF
// (libbpf relocates each field against the running kernel's BTF at load
// time, and the build stays reproducible), and a task's pid as the caller
// sees it.
#pragma once

#include <linux/types.h>
#include <stdbool.h>
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
struct inode {
  unsigned short i_mode;
  unsigned long i_ino;
} CORE;
struct file {
  struct inode* f_inode;
} CORE;
struct fdtable {
  unsigned int max_fds;
  struct file** fd;
  unsigned long* open_fds;
} CORE;
struct files_struct {
  struct fdtable* fdt;
} CORE;
struct task_struct {
  int tgid;
  struct task_struct* group_leader;
  struct pid* thread_pid;
  struct files_struct* files;
} CORE;

#define S_IFMT 0170000
#define S_IFSOCK 0140000

// The caller's pid namespace level (set before load): pids are reported as
// the caller sees them, like /proc.
const volatile __u32 pid_level = 0;

// The task's process id in the caller's pid namespace into *pid; false if
// the task is not visible there.
static __always_inline bool visible_pid(struct task_struct* task, __u32* pid) {
  if (pid_level == 0) {
    *pid = (__u32)task->tgid;
    return true;
  }
  struct pid* p = BPF_CORE_READ(task, thread_pid);
  unsigned int level = BPF_CORE_READ(p, level);
  if (level < pid_level) return false;
  int nr = 0;
  if (bpf_core_read(&nr, sizeof nr, &p->numbers[pid_level].nr)) return false;
  *pid = (__u32)nr;
  return true;
}
