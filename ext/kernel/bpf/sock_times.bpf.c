// The kernel half of closed_sockets' opened_time and duration_ms
// (ext/kernel/sock_times.cpp): a tp_btf program on inet_sock_set_state,
// the tracepoint every TCP state change passes, that records when each TCP
// socket opened, keyed by its socket cookie (the cookie the destroy
// announcement carries), and when it reaches CLOSE writes both times to a
// ring user space reads. Times are CLOCK_BOOTTIME
// nanoseconds. It only writes its own map: the traced socket is never
// touched, and the program's return value is ignored by the tracepoint.
//
// CO-RE: struct sock is declared here with the one field read, relocated
// against the running kernel's BTF at load time (as task_common.h does).
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "times_batch.h"

#define CORE __attribute__((preserve_access_index))

struct sock {
  __u16 sk_protocol;
} CORE;

#define IPPROTO_TCP 6
// include/net/tcp_states.h
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

struct times {
  __u64 cookie;  // the key again: take_times checks the entry was not reused meanwhile
  __u64 opened_ns;
  __u64 closed_ns;  // 0 until the socket reaches CLOSE
};

// Fixed size: an entry user space never takes (a socket whose close nobody
// read, a namespace nobody listens to) is evicted, oldest use first, when
// the map is full (131072 entries: ~12 MiB of kernel memory; the
// closed_sockets column docs and README say so).
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 131072);
  __type(key, __u64);
  __type(value, struct times);
} times SEC(".maps");

// The times of each socket as it reaches CLOSE (struct
// netsql_closed_times), for user space to match with the destroy
// announcements.
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, NETSQL_TIMES_RING);
} closes SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int sock_times(__u64* ctx) {
  struct sock* sk = (struct sock*)ctx[0];
  int oldstate = (int)ctx[1];
  int newstate = (int)ctx[2];
  if (!sk || sk->sk_protocol != IPPROTO_TCP) return 0;
  __u64 cookie = bpf_get_socket_cookie(sk);
  __u64 now = bpf_ktime_get_boot_ns();
  // Opening: a connect (CLOSE -> SYN_SENT), a listen (CLOSE -> LISTEN), an
  // accepted child (LISTEN -> SYN_RECV, its first state). Only these, so a
  // socket opened before the program was loaded gets no entry.
  if ((oldstate == TCP_CLOSE && newstate != TCP_CLOSE) || newstate == TCP_SYN_RECV) {
    // A socket connecting again after a CLOSE counts from its new connect:
    // its first CLOSE took its entry, or left one with its close time (the
    // ring was full), which this one replaces.
    struct times* old = bpf_map_lookup_elem(&times, &cookie);
    if (old && old->closed_ns == 0) return 0;
    struct times t = {.cookie = cookie, .opened_ns = now};
    bpf_map_update_elem(&times, &cookie, &t, BPF_ANY);
    return 0;
  }
  if (newstate == TCP_CLOSE && oldstate != TCP_CLOSE) {  // a CLOSE set again (tcp_done on a reset socket) changes nothing
    struct times* t = bpf_map_lookup_elem(&times, &cookie);
    if (!t) return 0;
    __u64 opened = t->opened_ns;
    // Its final times go to user space through the ring, so that reading
    // them costs the reader no system call and no walk of this map; the
    // entry is then done with. A full ring (nobody reading) keeps them in
    // the entry, where take_times finds them.
    struct netsql_closed_times* r = bpf_ringbuf_reserve(&closes, sizeof *r, 0);
    if (r) {
      r->cookie = cookie;
      r->opened_ns = opened;
      r->closed_ns = now;
      bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);  // read when rows need it, never waited on
      bpf_map_delete_elem(&times, &cookie);
      return 0;
    }
    // Written back only if the cookie still has its entry (an entry
    // evicted meanwhile may already hold another socket's times).
    struct times closed = {.cookie = cookie, .opened_ns = opened, .closed_ns = now};
    bpf_map_update_elem(&times, &cookie, &closed, BPF_EXIST);
  }
  return 0;
}

// Filled and read by user space through the mapped .bss.
struct netsql_times_batch batch;

// Run by user space (BPF_PROG_RUN), never attached: looks up, and with
// delete_it removes, the entry of each socket in `batch`. A socket in the
// batch has been destroyed, so sock_times writes its entry no more; but a
// full map may evict the entry and hand it to another socket while it is
// read here: its times count only if it still holds the cookie after them.
SEC("syscall")
int take_times(void* ctx) {
  __u32 n = batch.count;
  for (__u32 i = 0; i < NETSQL_TIMES_BATCH && i < n; i++) {
    struct netsql_times_slot* s = &batch.slot[i];
    __u64 cookie = s->cookie;
    s->opened_ns = s->closed_ns = 0;
    struct times* t = bpf_map_lookup_elem(&times, &cookie);
    if (!t) continue;
    __u64 opened = t->opened_ns, closed = t->closed_ns;
    asm volatile("" ::: "memory");  // the times read before the cookie is read again (x86 keeps loads in order)
    if (t->cookie != cookie) continue;
    s->opened_ns = opened;
    s->closed_ns = closed;
    if (batch.delete_it) bpf_map_delete_elem(&times, &cookie);
  }
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
