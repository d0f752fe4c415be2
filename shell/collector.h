// The schedule's collector: a stream query ("stream": true, over
// closed_sockets(-1)) runs on reader threads, one per namespace it follows,
// each keeping its scan, and so its kernel subscription, open for good.
// Rows wait in a bounded queue until the schedule's thread appends them to
// the history in batches (History::append). A full queue stops the reader,
// the kernel's queue fills and its overruns are counted: loss is recorded,
// never hidden, and memory stays bounded.
#pragma once

#include <pthread.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "history.h"
#include "session.h"

namespace netsql::shell {

class StreamCollector {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts the readers of `q` (q.stream). The query is prepared first on
  // a connection like the readers' (session()): one that fails there stops
  // the start with its error (std::runtime_error). A batch holds at most
  // `batch_rows` rows and waits at most `interval_s` before it is due; a
  // reader writes to the eventfd `wake` when its row begins or fills a batch.
  StreamCollector(QuerySpec q, bool osquery_compat, size_t batch_rows, double interval_s, int wake);
  ~StreamCollector();  // stop()
  StreamCollector(const StreamCollector&) = delete;
  StreamCollector& operator=(const StreamCollector&) = delete;

  // When the pending batch should be written: at once (the clock's
  // earliest time) when it is full or the kernel reported loss, `interval_s` after its oldest row or error, else
  // never.
  Clock::time_point due();
  // The pending batch (rows, overruns since the last take, errors), or the
  // batch put back after a failed write, which goes first.
  StreamBatch take();
  // Puts back a batch the history could not take, to be retried after a
  // back-off (1 s, doubling to 60 s while writes keep failing).
  void put_back(StreamBatch b);
  // Hands back the rows of a batch written, for the readers to fill again:
  // their vectors and strings keep their memory, so that a row costs no
  // allocation once the first batches are made.
  void recycle(std::vector<std::vector<Value>> rows);
  // Rows read but not yet written (pending and put back).
  size_t unwritten_rows();
  // Ends every reader's scan and joins them; rows already read stay
  // pending for a last take().
  void stop();

  // The connection a stream query runs on, and is checked on at start:
  // in memory (not the history: a scan holds its statement open for good),
  // the netsql tables, and the osquery views with `osquery_compat`.
  static std::unique_ptr<Session> session(bool osquery_compat);

  const QuerySpec& query() const { return q_; }
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  struct Reader {
    std::string netns;  // "" for the collector's own namespace
    std::thread thread;
    // While a scan runs (under m_): its thread, connection and overrun counter.
    pthread_t tid{};
    sqlite3* db = nullptr;
    const std::atomic<uint64_t>* live = nullptr;
    uint64_t live_base = 0;       // the thread's counter when the scan began
    uint64_t ended_overruns = 0;  // of the scans that ended
  };

  // The result columns of `q` on session(): its error names the query.
  static std::vector<std::string> checked_columns(const QuerySpec& q, bool osquery_compat);
  static double checked_interval(double seconds);
  void read(Reader& r);
  void scan(Reader& r);
  // Queues `row` and puts a row to fill next in its place (one recycled,
  // else empty); false once stopping.
  bool push(std::vector<Value>& row);
  void wake();                        // the schedule's thread, to look at due() again
  void record_error(const Reader& r, const std::string& what);
  uint64_t overruns_locked() const;

  const QuerySpec q_;
  const bool osquery_compat_;
  const std::vector<std::string> columns_;
  const size_t batch_rows_;
  const Clock::duration interval_;
  const int wake_;
  std::mutex m_;
  std::condition_variable cv_;  // room in the queue, or stopping
  bool stopping_ = false;
  StreamBatch pending_, retry_;
  std::vector<std::vector<Value>> spare_;  // rows to fill again (recycle)
  bool has_retry_ = false;
  int failures_ = 0;               // writes failed in a row
  Clock::time_point retry_at_{};  // when the batch put back is tried again
  Clock::time_point oldest_{};  // of what is pending
  uint64_t overruns_taken_ = 0;
  std::vector<std::unique_ptr<Reader>> readers_;
};

}  // namespace netsql::shell
