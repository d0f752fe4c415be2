// Loading bpf/task_sockets.bpf.c (task_sockets_load.c): a C interface,
// because the light skeleton bpftool generates is C only.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct task_sockets_lskel;

// Opens, loads and attaches the iterator, reporting pids as seen from pid
// namespace level `pid_level`. NULL on failure, errno saying why.
struct task_sockets_lskel* netsql_task_sockets_load(unsigned pid_level);
// A new iterator fd (O_CLOEXEC) whose read()s walk every process's fds
// once; -1 with errno on failure.
int netsql_task_sockets_iter(const struct task_sockets_lskel* skel);
// Detaches and closes everything; NULL is fine.
void netsql_task_sockets_destroy(struct task_sockets_lskel* skel);

#ifdef __cplusplus
}
#endif
