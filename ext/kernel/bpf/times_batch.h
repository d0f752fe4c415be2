// What the tracker (bpf/sock_times.bpf.c) and user space exchange: its
// ring's records, and the batch through which user space takes the
// entries not sent through the ring (the take_times program, in its .bss):
// shared by the BPF program, its C loader and the C++ caller, so that the
// three cannot disagree. One bpf() call takes a whole batch, where one call per socket
// was most of what opened_time and duration_ms cost at 20,000 closes/s.
#pragma once

#include <linux/types.h>

#define NETSQL_TIMES_BATCH 64
#define NETSQL_TIMES_RING (1 << 20)  // bytes: 32767 records of 32 with the ring's header (never filled whole)

struct netsql_times_slot {
  __u64 cookie;     // in: the socket
  __u64 opened_ns;  // out: CLOCK_BOOTTIME of its opening, 0 when the tracker has no entry
  __u64 closed_ns;  // out: of its CLOSE, 0 when not recorded
};

// A record of the tracker's ring (bpf/sock_times.bpf.c's `closes`): a
// socket's times, written as it reaches CLOSE.
struct netsql_closed_times {
  __u64 cookie;
  __u64 opened_ns;  // CLOCK_BOOTTIME
  __u64 closed_ns;
};

struct netsql_times_batch {
  __u32 count;      // in: slots used, at most NETSQL_TIMES_BATCH
  __u32 delete_it;  // in: nonzero to delete the entries found
  struct netsql_times_slot slot[NETSQL_TIMES_BATCH];
};
