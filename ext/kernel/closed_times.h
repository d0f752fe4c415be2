// The tracker's records of closed sockets (sock_times.cpp reads them from
// its ring) until their destroy announcements take them: by cookie, in a
// fixed table (linear probing, at most half full), the oldest of kKeep
// dropped when more arrive (sockets whose announcement nobody reads: other
// namespaces, or a CLOSE long before the socket was freed). No allocation
// after construction. Not thread-safe: the tracker's mutex guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace netsql::kernel {

class ClosedTimes {
 public:
  struct Record {
    uint64_t cookie;  // 0 is no socket's (the kernel's cookies start at 1)
    uint64_t opened_ns, closed_ns;
  };

  static constexpr int kBits = 16;
  static constexpr size_t kKeep = size_t{1} << (kBits - 1);  // the table at most half full

  ClosedTimes() : slots_(size_t{1} << kBits), order_(kKeep) {}

  // Keeps `r` (in place of an earlier record of its socket).
  void put(const Record& r) {
    if (r.cookie == 0) return;
    if (seq_ >= kKeep) {  // the oldest makes room, unless taken already or written again since
      const uint64_t old = seq_ - kKeep;
      size_t i = find(order_[old % kKeep]);
      if (i != kNone && slots_[i].seq == old) erase(i);
    }
    size_t i = home(r.cookie);
    while (slots_[i].cookie != 0 && slots_[i].cookie != r.cookie) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = {r.cookie, r.opened_ns, r.closed_ns, seq_};
    order_[seq_ % kKeep] = r.cookie;
    ++seq_;
  }
  // The record of `cookie` (out of the table with `remove`), if there is one.
  std::optional<Record> get(uint64_t cookie, bool remove) {
    size_t i = cookie ? find(cookie) : kNone;
    if (i == kNone) return std::nullopt;
    Record r{slots_[i].cookie, slots_[i].opened_ns, slots_[i].closed_ns};
    if (remove) erase(i);
    return r;
  }

 private:
  struct Slot {
    uint64_t cookie = 0;  // 0: free (the kernel's cookies start at 1)
    uint64_t opened_ns = 0, closed_ns = 0;
    uint64_t seq = 0;  // when it was put
  };
  static constexpr size_t kNone = ~size_t{0};

  static size_t home(uint64_t cookie) { return (cookie * 0x9e3779b97f4a7c15ULL) >> (64 - kBits); }  // Fibonacci hashing
  size_t find(uint64_t cookie) const {
    for (size_t i = home(cookie);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].cookie == cookie) return i;
      if (slots_[i].cookie == 0) return kNone;
    }
  }
  // Frees slot i and moves back the entries after it that probing would
  // no longer reach past the hole.
  void erase(size_t i) {
    const size_t mask = slots_.size() - 1;
    for (size_t j = (i + 1) & mask; slots_[j].cookie != 0; j = (j + 1) & mask) {
      const size_t h = home(slots_[j].cookie);
      // j stays when its home lies cyclically in (i, j].
      if (((j - h) & mask) < ((j - i) & mask)) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].cookie = 0;
  }

  std::vector<Slot> slots_;
  std::vector<uint64_t> order_;  // cookies by their seq, modulo kKeep
  uint64_t seq_ = 0;
};

}  // namespace netsql::kernel
