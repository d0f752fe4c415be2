// Loads bpf/task_sockets.bpf.c through the light skeleton `bpftool gen
// skeleton -L` makes of it (task_sockets.lskel.h, generated at build time).
// A light skeleton needs no libbpf at run time: a small loader program does
// the work inside the kernel, which relocates our program's field accesses
// (CO-RE) against its own, already parsed, BTF. A libbpf skeleton instead
// reads and parses all of /sys/kernel/btf/vmlinux in the caller (~10 ms and
// ~12 MiB at every load), which dominated queries that return few rows.
// Needs kernel >= 5.17 (in-kernel CO-RE); older kernels fail the load and
// the /proc scan serves.
#include "task_sockets_load.h"

#include <errno.h>
#include <string.h>

#include "task_sockets.lskel.h"

struct task_sockets_lskel* netsql_task_sockets_load(unsigned pid_level) {
  struct task_sockets_lskel* skel = task_sockets_lskel__open();
  if (!skel) return NULL;
  skel->rodata->pid_level = pid_level;
  int err = task_sockets_lskel__load(skel);
  if (err == 0) err = task_sockets_lskel__attach(skel);
  if (err < 0) {
    int saved = err < -1 ? -err : errno;  // __load returns -errno, __attach -1
    task_sockets_lskel__destroy(skel);
    errno = saved;
    return NULL;
  }
  return skel;
}

int netsql_task_sockets_iter(const struct task_sockets_lskel* skel) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.iter_create.link_fd = (unsigned)skel->links.task_sockets_fd;
  return skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof attr);
}

void netsql_task_sockets_destroy(struct task_sockets_lskel* skel) { task_sockets_lskel__destroy(skel); }
