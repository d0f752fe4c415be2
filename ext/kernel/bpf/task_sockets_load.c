// Loads bpf/task_sockets.bpf.c and bpf/task_owners.bpf.c through the light
// skeletons `bpftool gen skeleton -L` makes of them (*.lskel.h, generated
// at build time). A light skeleton needs no libbpf at run time: a small
// loader program does the work inside the kernel, which relocates our
// program's field accesses (CO-RE) against its own, already parsed, BTF. A
// libbpf skeleton instead reads and parses all of /sys/kernel/btf/vmlinux
// in the caller (~10 ms and ~12 MiB at every load), which dominated queries
// that return few rows. Needs kernel >= 5.17 (in-kernel CO-RE); older
// kernels fail the load and the /proc scan serves.
#include "task_sockets_load.h"

#include <errno.h>
#include <string.h>

#include "wanted_table.h"  // before task_owners.lskel.h, which names its slot type
#include "task_owners.lskel.h"
#include "task_sockets.lskel.h"

// Opens, sets the pid level, loads and attaches one light skeleton `name`.
#define LOAD(name, pid_level)                                        \
  do {                                                               \
    struct name* skel = name##__open();                              \
    if (!skel) return NULL;                                          \
    skel->rodata->pid_level = (pid_level);                           \
    int err = name##__load(skel);                                    \
    if (err == 0) err = name##__attach(skel);                        \
    if (err < 0) {                                                   \
      int saved = err < -1 ? -err : errno; /* __load: -errno, __attach: -1 */ \
      name##__destroy(skel);                                         \
      errno = saved;                                                 \
      return NULL;                                                   \
    }                                                                \
    return skel;                                                     \
  } while (0)

static int new_iter(int link_fd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.iter_create.link_fd = (unsigned)link_fd;
  return skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof attr);
}

struct task_sockets_lskel* netsql_task_sockets_load(unsigned pid_level) { LOAD(task_sockets_lskel, pid_level); }

int netsql_task_sockets_iter(const struct task_sockets_lskel* skel) { return new_iter(skel->links.task_sockets_fd); }

void netsql_task_sockets_destroy(struct task_sockets_lskel* skel) { task_sockets_lskel__destroy(skel); }

struct task_owners_lskel* netsql_task_owners_load(unsigned pid_level) { LOAD(task_owners_lskel, pid_level); }

struct netsql_wanted_slot* netsql_task_owners_table(struct task_owners_lskel* skel) { return skel->bss->wanted; }

int netsql_task_owners_iter(const struct task_owners_lskel* skel) { return new_iter(skel->links.task_owners_fd); }

void netsql_task_owners_destroy(struct task_owners_lskel* skel) { task_owners_lskel__destroy(skel); }
