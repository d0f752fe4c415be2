// The table of wanted sockets that bpf/task_owners.bpf.c reads and
// owners_bpf.cpp fills (in the program's .bss): shared by the BPF program,
// its C loader and the C++ caller, so that the three cannot disagree.
#pragma once

#include <linux/types.h>

// Open addressing with linear probing from netsql_wanted_home(inode); every
// inode sits at most NETSQL_WANTED_PROBES slots from its home, which the
// filler guarantees (it refuses a set that does not fit so).
#define NETSQL_WANTED_BITS 12
#define NETSQL_WANTED_SLOTS (1u << NETSQL_WANTED_BITS)
#define NETSQL_WANTED_PROBES 8

struct netsql_wanted_slot {
  __u64 inode;  // 0: empty (no socket has inode 0)
  __u32 pid;    // the lowest pid holding it, 0 until one is found
  __u32 fd;     // that process's lowest fd for it
};

static inline __u32 netsql_wanted_home(__u64 inode) {
  return (__u32)((inode * 0x9E3779B97F4A7C15ull) >> (64 - NETSQL_WANTED_BITS));  // Fibonacci hashing
}
