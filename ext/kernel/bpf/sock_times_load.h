// Loading bpf/sock_times.bpf.c (sock_times_load.c): a C interface, because
// the light skeleton bpftool generates is C only.
#pragma once

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sock_times_lskel;

// Opens, loads and attaches the state-change tracker. NULL on failure,
// errno saying why.
struct sock_times_lskel* netsql_sock_times_load(void);
// Reads the entry of socket `cookie` into `value` (two __u64: opened_ns,
// closed_ns), and deletes it from the map if `delete_it`: 0, or -1 with
// errno (ENOENT: none).
int netsql_sock_times_read(const struct sock_times_lskel* skel, __u64 cookie, void* value, int delete_it);
// Detaches and closes everything; NULL is fine.
void netsql_sock_times_destroy(struct sock_times_lskel* skel);

#ifdef __cplusplus
}
#endif
