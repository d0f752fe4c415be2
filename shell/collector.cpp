#include "collector.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "kernel/netns.h"
#include "kernel/sock_destroy.h"
#include "numbers.h"
#include "osquery_config.h"
#include "session.h"
#include "signals.h"

namespace netsql::shell {

std::unique_ptr<Session> StreamCollector::session(bool osquery_compat) {
  auto s = std::make_unique<Session>(":memory:");
  if (osquery_compat) create_osquery_views(s->db());
  return s;
}

std::vector<std::string> StreamCollector::checked_columns(const QuerySpec& q, bool osquery_compat) {
  try {
    return session(osquery_compat)->query(q.sql).columns();
  } catch (const std::exception& e) {
    throw std::runtime_error("query '" + q.name + "': " + e.what());
  }
}

// The batch interval, in range before it becomes nanoseconds (beyond, the
// conversion overflows).
double StreamCollector::checked_interval(double s) {
  if (!(s >= kMinIntervalS && s <= kMaxIntervalS))
    throw std::invalid_argument(fmt::format("stream interval {} s is not from {} to {}", s, kMinIntervalS, kMaxIntervalS));
  return s;
}

StreamCollector::StreamCollector(QuerySpec q, bool osquery_compat, size_t batch_rows, double interval_s, int wake)
    : q_(std::move(q)),
      osquery_compat_(osquery_compat),
      columns_(checked_columns(q_, osquery_compat)),
      batch_rows_(batch_rows),
      interval_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(checked_interval(interval_s)))),
      wake_(wake) {
  install_thread_wakeup();  // stop() wakes a waiting reader with it, to see sqlite3_interrupt at once
  std::vector<std::string> spaces = q_.netns.empty() ? std::vector<std::string>{""} : q_.netns;
  for (const auto& ns : spaces) {
    readers_.push_back(std::make_unique<Reader>());
    readers_.back()->netns = ns;
  }
  try {
    for (auto& r : readers_) r->thread = std::thread([this, reader = r.get()] { read(*reader); });
  } catch (const std::system_error& e) {  // thread limit: the readers started are stopped, not left running
    stop();
    throw std::runtime_error("query '" + q_.name + "': cannot start a reader thread: " + e.code().message());
  }
}

StreamCollector::~StreamCollector() { stop(); }

// Scans until stopped; a scan that ends or fails is recorded and started
// again after the interval (closes in between are not seen: the error
// says so).
void StreamCollector::read(Reader& r) {
  for (;;) {
    try {
      if (r.netns.empty()) scan(r);
      else kernel::Netns::open(r.netns).run([&] { scan(r); });
    } catch (const std::exception& e) {
      std::unique_lock lock(m_);
      if (stopping_) return;
      lock.unlock();
      record_error(r, e.what());
    }
    std::unique_lock lock(m_);
    if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
  }
}

// One scan of the query in the calling thread's namespace. Throws what
// ended it (also an end without error: a stream should not end).
void StreamCollector::scan(Reader& r) {
  std::unique_ptr<Session> session = StreamCollector::session(osquery_compat_);
  Session& s = *session;
  // Published for stop() while the scan runs; withdrawn before the
  // connection closes and before this thread (and its counter) ends.
  struct Published {
    StreamCollector& c;
    Reader& r;
    Published(StreamCollector& c, Reader& r, sqlite3* db) : c(c), r(r) {
      std::lock_guard lock(c.m_);
      r.tid = pthread_self();
      r.db = db;
      r.live = &kernel::this_thread_destroy_overruns();
      r.live_base = r.live->load();  // a scan restarted on the same thread counts only its own
    }
    ~Published() {
      std::lock_guard lock(c.m_);
      r.ended_overruns += r.live->load() - r.live_base;
      r.live = nullptr;
      r.db = nullptr;
    }
  } published(*this, r, s.db());
  {
    std::lock_guard lock(m_);
    if (stopping_) return;
  }
  Rows rows = s.query(q_.sql);
  std::vector<Value> row;
  while (rows.next(row)) {  // into the recycled row's strings
    if (!q_.netns.empty()) row.emplace_back(r.netns);
    if (!push(row)) return;
  }
  throw std::runtime_error("the scan ended; closes until it restarts are not seen (a stream query reads "
                           "closed_sockets(-1), which listens until stopped)");
}

bool StreamCollector::push(std::vector<Value>& row) {
  std::unique_lock lock(m_);
  // A full queue holds the reader here: the kernel's queue takes the
  // backlog, and counts what it drops (overruns).
  cv_.wait(lock, [this] { return stopping_ || pending_.rows.size() < batch_rows_; });
  if (stopping_) return false;
  const bool first = pending_.rows.empty() && pending_.error.empty();
  if (first) oldest_ = Clock::now();
  pending_.rows.push_back(std::move(row));
  row.clear();
  if (!spare_.empty()) {
    row = std::move(spare_.back());
    spare_.pop_back();
  }
  if (first || pending_.rows.size() == batch_rows_) wake();  // a batch that begins is due `interval` later
  return true;
}

void StreamCollector::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_, &one, sizeof one);
}

void StreamCollector::record_error(const Reader& r, const std::string& what) {
  std::lock_guard lock(m_);
  if (pending_.rows.empty() && pending_.error.empty()) {
    oldest_ = Clock::now();
    wake();
  }
  std::string e = r.netns.empty() ? what : "netns " + r.netns + ": " + what;
  if (pending_.error.find(e) == std::string::npos)  // the same failure, repeated, is said once a batch
    pending_.error += (pending_.error.empty() ? "" : "; ") + e;
}

uint64_t StreamCollector::overruns_locked() const {
  uint64_t n = 0;
  for (const auto& r : readers_) n += r->ended_overruns + (r->live ? r->live->load() - r->live_base : 0);
  return n;
}

StreamCollector::Clock::time_point StreamCollector::due() {
  std::lock_guard lock(m_);
  if (has_retry_) return retry_at_;
  if (pending_.rows.size() >= batch_rows_ || overruns_locked() > overruns_taken_) return Clock::time_point::min();
  if (!pending_.rows.empty() || !pending_.error.empty()) return oldest_ + interval_;
  return Clock::time_point::max();
}

StreamBatch StreamCollector::take() {
  std::lock_guard lock(m_);
  if (has_retry_) {
    has_retry_ = false;
    return std::move(retry_);
  }
  failures_ = 0;  // what was put back before was written
  StreamBatch b = std::move(pending_);
  pending_ = StreamBatch{};
  uint64_t total = overruns_locked();
  b.overruns = static_cast<int64_t>(total - overruns_taken_);
  overruns_taken_ = total;
  cv_.notify_all();  // room again
  return b;
}

void StreamCollector::put_back(StreamBatch b) {
  std::lock_guard lock(m_);
  retry_ = std::move(b);
  has_retry_ = true;
  retry_at_ = Clock::now() + std::chrono::seconds(1 << std::min(failures_++, 6));  // 1 s .. 64 s
}

void StreamCollector::recycle(std::vector<std::vector<Value>> rows) {
  std::lock_guard lock(m_);
  if (spare_.empty()) spare_ = std::move(rows);  // one batch's worth at most
}

size_t StreamCollector::unwritten_rows() {
  std::lock_guard lock(m_);
  return pending_.rows.size() + (has_retry_ ? retry_.rows.size() : 0);
}

void StreamCollector::stop() {
  {
    std::lock_guard lock(m_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  // A reader inside a scan: interrupted, and signalled until it has left
  // the scan (a signal landing just before its wait would be missed).
  for (auto& r : readers_) {
    for (;;) {
      {
        std::lock_guard lock(m_);
        if (!r->db) break;
        sqlite3_interrupt(r->db);
        wake_thread(r->tid);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (r->thread.joinable()) r->thread.join();
  }
}

}  // namespace netsql::shell
