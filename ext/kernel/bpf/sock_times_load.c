// Loads bpf/sock_times.bpf.c through its light skeleton (see
// task_sockets_load.c for why a light skeleton: no libbpf at run time).
#include "sock_times_load.h"

#include <errno.h>
#include <string.h>

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

// BPF_MAP_LOOKUP_AND_DELETE_ELEM: the entry does not linger once read.
// Hash maps have it since 5.14; before, a lookup and then a delete.
int netsql_sock_times_read(const struct sock_times_lskel* skel, __u64 cookie, void* value, int delete_it) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (__u32)skel->maps.times.map_fd;
  attr.key = (long)&cookie;
  attr.value = (long)value;
  if (delete_it) {
    int r = skel_sys_bpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, &attr, sizeof attr);
    if (r == 0 || (errno != EINVAL && errno != ENOTSUP && errno != 524 /* ENOTSUPP */)) return r;
  }
  int r = skel_sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr, sizeof attr);
  if (r == 0 && delete_it) {
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (__u32)skel->maps.times.map_fd;
    attr.key = (long)&cookie;
    skel_sys_bpf(BPF_MAP_DELETE_ELEM, &attr, sizeof attr);
  }
  return r;
}

void netsql_sock_times_destroy(struct sock_times_lskel* skel) { sock_times_lskel__destroy(skel); }
