// Loading bpf/sock_times.bpf.c (sock_times_load.c): a C interface, because
// the light skeleton bpftool generates is C only.
#pragma once

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sock_times_lskel;
struct netsql_times_batch;

// Opens, loads and attaches the state-change tracker. NULL on failure,
// errno saying why.
struct sock_times_lskel* netsql_sock_times_load(void);
// The batch in the program's .bss (bpf/times_batch.h), for the cookies
// to take and their times.
struct netsql_times_batch* netsql_sock_times_batch(struct sock_times_lskel* skel);
// The ring of closed sockets' times (struct netsql_closed_times): its
// map fd, to map it.
int netsql_sock_times_ring_fd(const struct sock_times_lskel* skel);
// Runs take_times over the batch: 0, or -1 with errno.
int netsql_sock_times_take(const struct sock_times_lskel* skel);
// Detaches and closes everything; NULL is fine.
void netsql_sock_times_destroy(struct sock_times_lskel* skel);

#ifdef __cplusplus
}
#endif
