#include "kernel/sock_times.h"

#include <errno.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "kernel/owners_bpf.h"  // bpf_load_refusal

#if NETSQL_BPF
#include "kernel/bpf/sock_times_load.h"
#include "kernel/bpf/times_batch.h"
#endif

namespace netsql::kernel {

struct SockTimesHold::Tracker {
  std::string failure;
#if NETSQL_BPF
  sock_times_lskel* skel = nullptr;
  std::mutex batch_mutex;  // the one batch in the program's .bss, shared by every hold

  Tracker() {
    failure = bpf_load_refusal();
    if (!failure.empty()) return;
    skel = netsql_sock_times_load();
    if (!skel) failure = std::string("cannot load the BPF socket tracker: ") + std::strerror(errno);
  }
  ~Tracker() { netsql_sock_times_destroy(skel); }  // detaches the link, closes every fd; NULL is fine
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

void SockTimesHold::take(std::span<const uint64_t> cookies, std::span<std::optional<SockTimes>> times) const {
  for (auto& t : times) t.reset();
#if NETSQL_BPF
  if (!tracker_->skel) return;
  const size_t n = std::min(cookies.size(), times.size());
  std::lock_guard lock(tracker_->batch_mutex);
  netsql_times_batch* batch = netsql_sock_times_batch(tracker_->skel);
  batch->delete_it = tracker_.use_count() == 1;
  const int64_t boot_to_unix = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
  for (size_t first = 0; first < n; first += NETSQL_TIMES_BATCH) {
    const size_t count = std::min<size_t>(n - first, NETSQL_TIMES_BATCH);
    batch->count = static_cast<uint32_t>(count);
    for (size_t i = 0; i < count; ++i) batch->slot[i].cookie = cookies[first + i];
    if (netsql_sock_times_take(tracker_->skel) != 0) return;
    constexpr uint64_t kMax = INT64_MAX;
    for (size_t i = 0; i < count; ++i) {
      const netsql_times_slot& v = batch->slot[i];
      if (v.opened_ns == 0 || v.opened_ns > kMax) continue;
      SockTimes& t = times[first + i].emplace();
      t.opened_unix_ns = static_cast<int64_t>(v.opened_ns) + boot_to_unix;
      if (v.closed_ns >= v.opened_ns && v.closed_ns <= kMax) t.lived_ns = static_cast<int64_t>(v.closed_ns - v.opened_ns);
    }
  }
#else
  (void)cookies;
#endif
}

}  // namespace netsql::kernel
