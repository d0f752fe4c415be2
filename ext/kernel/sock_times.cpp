#include "kernel/sock_times.h"

#include <errno.h>
#include <time.h>

#include <cstring>
#include <mutex>

#include "kernel/owners_bpf.h"  // bpf_load_refusal

#if NETSQL_BPF
#include "kernel/bpf/sock_times_load.h"
#endif

namespace netsql::kernel {

#if NETSQL_BPF
// Must match struct times in bpf/sock_times.bpf.c.
struct SockTimesValue {
  uint64_t opened_ns;
  uint64_t closed_ns;  // 0: not closed yet
};
#endif

struct SockTimesHold::Tracker {
  std::string failure;
#if NETSQL_BPF
  sock_times_lskel* skel = nullptr;

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

std::optional<SockTimes> SockTimesHold::take([[maybe_unused]] uint64_t cookie) const {
#if NETSQL_BPF
  if (!tracker_->skel) return std::nullopt;
  SockTimesValue v{};
  if (netsql_sock_times_read(tracker_->skel, cookie, &v, tracker_.use_count() == 1) != 0) return std::nullopt;
  constexpr uint64_t kMax = INT64_MAX;
  if (v.opened_ns == 0 || v.opened_ns > kMax) return std::nullopt;
  SockTimes t;
  t.opened_unix_ns = static_cast<int64_t>(v.opened_ns) + (clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
  if (v.closed_ns >= v.opened_ns && v.closed_ns <= kMax) t.lived_ns = static_cast<int64_t>(v.closed_ns - v.opened_ns);
  return t;
#else
  return std::nullopt;
#endif
}

}  // namespace netsql::kernel
