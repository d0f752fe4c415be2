// History tables: snapshots of a query's result kept in an SQLite
// database (WAL), one table per query name, plus the `snapshots` catalog.
// Each snapshot is one transaction, so a crash leaves either all of it or
// none. Differential snapshots keep their baseline in the database.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "session.h"

namespace netsql::shell {

struct Retention {
  std::optional<int64_t> max_age_s;
  std::optional<int64_t> max_rows;
};

struct QuerySpec {
  std::string name, sql;
  std::string log_name;  // the result log's "name" when not `name` (osquery's pack_P_Q)
  const std::string& log_or_name() const { return log_name.empty() ? name : log_name; }
  bool differential = false;  // else every run appends its full result
  bool removed = true;        // differential: record removed rows too
  Retention retention;
  // A stream query (the schedule's collector): one long scan whose rows
  // are appended in batches as they arrive (History::append).
  bool stream = false;
  // Stream: the namespaces it follows, one scan each; the history table
  // then has a netns column (after the query's) saying which. Empty: the
  // collector's own namespace, no netns column.
  std::vector<std::string> netns;
};

// What the collector hands History::append: the rows that arrived since
// the previous batch (the query's columns, then the namespace's name when
// the query follows namespaces), and what it learned meanwhile.
struct StreamBatch {
  std::vector<std::vector<Value>> rows;
  // Times the kernel reported dropped announcements (ENOBUFS) since the
  // previous batch: rows are missing from the history.
  int64_t overruns = 0;
  std::string error;  // why a scan ended or failed ("" if none did)
};

// What result log lines carry beyond the rows (osquery's logger options).
struct LogExtras {
  std::string decorations;  // a JSON object's text, "" for none
  int64_t epoch = 0;
  bool batch = false;  // differential runs: one line per run with diffResults
};

struct SnapshotOutcome {
  int64_t id = 0, rows = 0, added = 0, removed = 0;
  std::string error;  // "" on success
};

// Query names become table names: letters, digits and '_', not starting
// with a digit, not sqlite_*, not our own tables. Returns "" if fine, else
// why not.
std::string check_query_name(const std::string& name);

class History {
 public:
  // Opens (creating) the history database at `path` with every netsql
  // table available. Throws std::runtime_error naming the path.
  explicit History(const std::string& path);

  // Checks a query before anything runs: it must be one read-only
  // statement that compiles, its column names must be distinct and not
  // ones history tables use themselves, and they must match the history
  // table if one exists. Returns "" or the problem.
  std::string check(const QuerySpec& q);

  // Runs q once and records it (rows, or the error, in the catalog). The
  // rows stream through temp tables into the database, so memory stays
  // bounded whatever the result's size. `log`, when given, receives
  // osquery-style JSON lines. Throws only when not even the error can be
  // recorded.
  SnapshotOutcome snapshot(const QuerySpec& q, std::ostream* log = nullptr, const std::string& host = "",
                           const LogExtras& extras = {});

  // Appends a stream query's batch in one transaction: its rows (with
  // snapshot_id and snapshot_time), retention, and a catalog row (mode
  // 'stream', rows, overruns, error). A batch with no rows is recorded only
  // when it carries overruns or an error. `log` receives an osquery event
  // line (action "added") per row. Throws std::runtime_error on failure
  // (nothing of the batch is written then).
  SnapshotOutcome append(const QuerySpec& q, const std::vector<std::string>& columns, const StreamBatch& batch,
                         std::ostream* log = nullptr, const std::string& host = "", const LogExtras& extras = {});

  Session& session() { return s_; }

 private:
  // Takes the next catalog id into out.id; returns osquery's counter: how
  // many earlier runs of query `name` the catalog holds (0: the first).
  int64_t begin_catalog(const std::string& name, SnapshotOutcome& out);
  // After the transaction that took `counter` committed, having deleted
  // `deleted` of the query's catalog rows (retention).
  void catalog_committed(const std::string& name, int64_t counter, int64_t deleted, int64_t id);

  Session s_;
  // The catalog rows of each query as of this History's last commit for
  // it, and the id of the newest, so that a run need not count them again:
  // a stream writes several batches a second, and counting took longer as
  // the catalog grew. Counted again when another writer (a `netsql
  // snapshot` of the same query) added a run since.
  struct CatalogCount {
    int64_t rows, last_id;
  };
  std::unordered_map<std::string, CatalogCount> catalog_rows_;
};

}  // namespace netsql::shell
