// Loading bpf/task_sockets.bpf.c and bpf/task_owners.bpf.c
// (task_sockets_load.c): a C interface, because the light skeletons bpftool
// generates are C only.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct task_sockets_lskel;
struct task_owners_lskel;
struct netsql_wanted_slot;

// Every socket fd of every process (task_sockets.bpf.c).
// Opens, loads and attaches the iterator, reporting pids as seen from pid
// namespace level `pid_level`. NULL on failure, errno saying why.
struct task_sockets_lskel* netsql_task_sockets_load(unsigned pid_level);
// A new iterator fd (O_CLOEXEC) whose read()s walk every process's fds
// once; -1 with errno on failure.
int netsql_task_sockets_iter(const struct task_sockets_lskel* skel);
// Detaches and closes everything; NULL is fine.
void netsql_task_sockets_destroy(struct task_sockets_lskel* skel);

// The lowest owner of each wanted socket (task_owners.bpf.c), the same way.
struct task_owners_lskel* netsql_task_owners_load(unsigned pid_level);
// Its table of wanted sockets (wanted_table.h), in memory shared with the
// program: filled before reading an iterator, holding the owners after.
struct netsql_wanted_slot* netsql_task_owners_table(struct task_owners_lskel* skel);
// A new iterator fd: reading it to its end (it returns no data) runs one scan.
int netsql_task_owners_iter(const struct task_owners_lskel* skel);
void netsql_task_owners_destroy(struct task_owners_lskel* skel);

#ifdef __cplusplus
}
#endif
