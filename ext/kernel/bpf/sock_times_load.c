// Loads bpf/sock_times.bpf.c through its light skeleton (see
// task_sockets_load.c for why a light skeleton: no libbpf at run time).
#include "sock_times_load.h"

#include <errno.h>
#include <string.h>

#include "times_batch.h"  // before sock_times.lskel.h, which names its type
#include "sock_times.lskel.h"

struct sock_times_lskel* netsql_sock_times_load(void) {
  struct sock_times_lskel* skel = sock_times_lskel__open();
  if (!skel) return NULL;
  int err = sock_times_lskel__load(skel);
  if (err == 0) err = sock_times_lskel__attach(skel);
  if (err < 0) {
    int saved = err < -1 ? -err : errno; /* __load: -errno, __attach: -1 */
    sock_times_lskel__destroy(skel);
    errno = saved;
    return NULL;
  }
  return skel;
}

struct netsql_times_batch* netsql_sock_times_batch(struct sock_times_lskel* skel) { return &skel->bss->batch; }

int netsql_sock_times_ring_fd(const struct sock_times_lskel* skel) { return skel->maps.closes.map_fd; }

int netsql_sock_times_take(const struct sock_times_lskel* skel) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = (__u32)skel->progs.take_times.prog_fd;
  return skel_sys_bpf(BPF_PROG_RUN, &attr, sizeof attr);
}

void netsql_sock_times_destroy(struct sock_times_lskel* skel) { sock_times_lskel__destroy(skel); }
