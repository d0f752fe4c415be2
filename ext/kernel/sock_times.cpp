#include "kernel/sock_times.h"

#include <errno.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

#include "kernel/closed_times.h"
#include "kernel/owners_bpf.h"  // bpf_load_refusal

#if NETSQL_BPF
#include "kernel/bpf/sock_times_load.h"
#include "kernel/bpf/times_batch.h"
#endif

namespace netsql::kernel {

#if NETSQL_BPF
namespace {

// The tracker's ring, read in place: its records (struct
// netsql_closed_times) in the order the sockets reached CLOSE. The kernel
// writes the producer position and the records, this reader the consumer
// position (the ring's protocol, as libbpf's ring_buffer reads it).
class ClosedRing {
 public:
  // Maps the ring `fd`; ok() false when it cannot (errno).
  explicit ClosedRing(int fd) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* c = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c == MAP_FAILED) return;
    // The data is mapped twice in a row, so that a record that wraps
    // around the end reads as one piece.
    void* p = mmap(nullptr, page_ + 2 * size_t{NETSQL_TIMES_RING}, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(page_));
    if (p == MAP_FAILED) {
      munmap(c, page_);
      return;
    }
    consumer_ = static_cast<unsigned long*>(c);
    producer_ = static_cast<const unsigned long*>(p);
    data_ = static_cast<const char*>(p) + page_;
  }
  ~ClosedRing() {
    if (!consumer_) return;
    munmap(consumer_, page_);
    munmap(const_cast<unsigned long*>(producer_), page_ + 2 * size_t{NETSQL_TIMES_RING});
  }
  ClosedRing(const ClosedRing&) = delete;
  ClosedRing& operator=(const ClosedRing&) = delete;
  bool ok() const { return consumer_ != nullptr; }

  // Calls `f` with each record written since the last call, and frees
  // their room. A record being written (by the program on another CPU,
  // which runs with preemption off: a few hundred nanoseconds) is waited
  // for, since those after it wait behind it; for at most ~16,000 pauses
  // (about a millisecond), after which it and those after it are read at
  // the next call (their sockets' times are NULL if wanted now).
  template <class F>
  void drain(F&& f) {
    unsigned long cons = __atomic_load_n(consumer_, __ATOMIC_RELAXED);
    const unsigned long prod = __atomic_load_n(producer_, __ATOMIC_ACQUIRE);
    while (cons < prod) {
      const auto* header = reinterpret_cast<const uint32_t*>(data_ + (cons & (NETSQL_TIMES_RING - 1)));
      uint32_t len = __atomic_load_n(header, __ATOMIC_ACQUIRE);
      for (int spins = 0; (len & BPF_RINGBUF_BUSY_BIT) && spins < (1 << 14); ++spins) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        len = __atomic_load_n(header, __ATOMIC_ACQUIRE);
      }
      if (len & BPF_RINGBUF_BUSY_BIT) break;  // read at the next call
      const uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if (!(len & BPF_RINGBUF_DISCARD_BIT) && size == sizeof(netsql_closed_times)) {
        netsql_closed_times r;
        std::memcpy(&r, reinterpret_cast<const char*>(header) + BPF_RINGBUF_HDR_SZ, sizeof r);
        f(r);
      }
      cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
    }
    __atomic_store_n(consumer_, cons, __ATOMIC_RELEASE);
  }

 private:
  size_t page_ = 0;
  unsigned long* consumer_ = nullptr;  // as the kernel keeps them
  const unsigned long* producer_ = nullptr;
  const char* data_ = nullptr;
};

}  // namespace
#endif

struct SockTimesHold::Tracker {
  std::string failure;
#if NETSQL_BPF
  sock_times_lskel* skel = nullptr;
  std::mutex mutex;  // for the ring, the table and the batch in the program's .bss, shared by every hold
  std::optional<ClosedRing> ring;
  std::optional<ClosedTimes> closed;  // made once the ring is mapped (2.3 MiB)
  std::vector<size_t> missed;  // take()'s, kept for its capacity
  uint64_t ring_records = 0;

  Tracker() {
    failure = bpf_load_refusal();
    if (!failure.empty()) return;
    skel = netsql_sock_times_load();
    if (!skel) {
      failure = std::string("cannot load the BPF socket tracker: ") + std::strerror(errno);
      return;
    }
    ring.emplace(netsql_sock_times_ring_fd(skel));
    if (!ring->ok()) {
      unload(std::string("cannot map the BPF socket tracker's ring: ") + std::strerror(errno));
      return;
    }
    try {
      closed.emplace();
    } catch (const std::bad_alloc&) {
      unload("cannot load the BPF socket tracker: out of memory");
    }
  }
  // A load that failed part-way: nothing of it stays.
  void unload(std::string why) {
    failure = std::move(why);
    ring.reset();
    netsql_sock_times_destroy(skel);
    skel = nullptr;
  }
  ~Tracker() {
    ring.reset();  // unmapped before its map's fd closes
    netsql_sock_times_destroy(skel);  // detaches the link, closes every fd; NULL is fine
  }
#else
  Tracker() : failure("netsql was built with -DNETSQL_BPF=OFF") {}
#endif
};

namespace {

struct Shared {
  std::mutex mutex;
  std::weak_ptr<SockTimesHold::Tracker> tracker;
};

// Never destroyed before the last hold (holds keep their own reference).
Shared& shared() {
  static Shared s;
  return s;
}

#if NETSQL_BPF
int64_t clock_ns(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}
#endif

}  // namespace

SockTimesHold::SockTimesHold() {
  Shared& s = shared();
  std::lock_guard lock(s.mutex);
  tracker_ = s.tracker.lock();
  if (!tracker_) {
    tracker_ = std::make_shared<Tracker>();
    s.tracker = tracker_;
  }
}

// The last hold destroys the tracker (unlocked: a new hold meanwhile loads
// a tracker of its own).
SockTimesHold::~SockTimesHold() = default;

const std::string& SockTimesHold::failure() const { return tracker_->failure; }

uint64_t SockTimesHold::ring_records() const {
#if NETSQL_BPF
  std::lock_guard lock(tracker_->mutex);
  return tracker_->ring_records;
#else
  return 0;
#endif
}

void SockTimesHold::take(std::span<const uint64_t> cookies, std::span<std::optional<SockTimes>> times) const {
  for (auto& t : times) t.reset();
#if NETSQL_BPF
  if (!tracker_->skel) return;
  const size_t n = std::min(cookies.size(), times.size());
  Tracker& tr = *tracker_;
  std::lock_guard lock(tr.mutex);
  // Taken out of the tracker when this is the only hold; while several
  // holds (scans) share it, each may want them: left for eviction.
  const bool sole = tracker_.use_count() == 1;
  const int64_t boot_to_unix = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
  auto fill = [&](std::optional<SockTimes>& into, uint64_t opened_ns, uint64_t closed_ns) {
    constexpr uint64_t kMax = INT64_MAX;
    if (opened_ns == 0 || opened_ns > kMax) return;
    SockTimes& t = into.emplace();
    t.opened_unix_ns = static_cast<int64_t>(opened_ns) + boot_to_unix;
    if (closed_ns >= opened_ns && closed_ns <= kMax) t.lived_ns = static_cast<int64_t>(closed_ns - opened_ns);
  };
  // A socket reached CLOSE before the kernel announced its destruction,
  // so its record is in the ring by now (unless the ring was full then).
  tr.ring->drain([&](const netsql_closed_times& r) {
    tr.closed->put({r.cookie, r.opened_ns, r.closed_ns});
    ++tr.ring_records;
  });
  std::vector<size_t>& missed = tr.missed;  // the sockets the ring had no record of
  missed.clear();
  for (size_t i = 0; i < n; ++i) {
    if (auto r = tr.closed->get(cookies[i], sole)) fill(times[i], r->opened_ns, r->closed_ns);
    else missed.push_back(i);
  }
  // Those: the map's entries (a socket still open, or a CLOSE the ring
  // had no room for), one bpf() call per 64.
  netsql_times_batch* batch = netsql_sock_times_batch(tr.skel);
  batch->delete_it = sole;
  for (size_t first = 0; first < missed.size(); first += NETSQL_TIMES_BATCH) {
    const size_t count = std::min<size_t>(missed.size() - first, NETSQL_TIMES_BATCH);
    batch->count = static_cast<uint32_t>(count);
    for (size_t i = 0; i < count; ++i) batch->slot[i].cookie = cookies[missed[first + i]];
    if (netsql_sock_times_take(tr.skel) != 0) return;
    for (size_t i = 0; i < count; ++i) fill(times[missed[first + i]], batch->slot[i].opened_ns, batch->slot[i].closed_ns);
  }
#else
  (void)cookies;
#endif
}

}  // namespace netsql::kernel
