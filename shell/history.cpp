#include "history.h"

#include "json.h"
#include "statement.h"
#include "vtabs/registry.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <variant>

namespace netsql::shell {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// now_ms - age_s seconds, saturating at the earliest time instead of
// wrapping (a wrapped cutoff lies in the future and deletes everything).
int64_t cutoff_ms(int64_t now_ms, int64_t age_s) {
  int64_t age_ms = 0, cutoff = 0;
  if (__builtin_mul_overflow(age_s, int64_t{1000}, &age_ms) || __builtin_sub_overflow(now_ms, age_ms, &cutoff))
    return std::numeric_limits<int64_t>::min();
  return cutoff;
}

std::string quote_id(const std::string& id) {
  std::string s = "\"";
  for (char c : id) s += c == '"' ? std::string("\"\"") : std::string(1, c);
  return s + "\"";
}

bool same_name(const std::string& a, const std::string& b) {  // SQLite compares column names ASCII-case-insensitively
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Runs `body` in one write transaction: all of it or none of it.
template <class F>
void in_transaction(sqlite3* db, F&& body) {
  exec(db, "BEGIN IMMEDIATE");
  try {
    body();
    exec(db, "COMMIT");
  } catch (...) {
    exec_quietly(db, "ROLLBACK");
    throw;
  }
}

// Columns of the history table `table`; empty when the database has none.
std::vector<std::string> existing_columns(sqlite3* db, const std::string& table) {
  std::vector<std::string> cols;
  Statement st(db,
               "SELECT p.name FROM main.sqlite_schema s, pragma_table_info(s.name) p "
               "WHERE s.type = 'table' AND s.name = ?1");
  st.bind(1, table);
  while (st.step()) cols.emplace_back(st.text(0));
  return cols;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Column names the history tables (and the differential baseline) use themselves.
const char* const kMeta[] = {"snapshot_id", "snapshot_time", "action", "netsql_count"};

// Snapshots stage the live result in temp tables with positional columns
// c1..cN: `temp.netsql_staging` (the rows) and, for differential queries,
// `temp.netsql_delta` (c1..cN, k: how many more of that row than in the
// baseline; negative for fewer).
std::string positional(size_t n) {
  std::string s;
  for (size_t i = 1; i <= n; ++i) s += (i > 1 ? ", " : "") + std::string("c") + std::to_string(i);
  return s;
}

// The delta's added (or removed) rows, one row per occurrence (c1..cN).
std::string expansion(size_t n, bool added) {
  std::string c = positional(n);
  return "WITH RECURSIVE x(" + c + ", k) AS (SELECT " + c + (added ? ", k" : ", -k") +
         " FROM temp.netsql_delta WHERE k " + (added ? "> 0" : "< 0") + " UNION ALL SELECT " + c +
         ", k - 1 FROM x WHERE k > 1) SELECT " + c + " FROM x";
}

// True when `tail` holds nothing but whitespace, comments and ';'.
bool blank_tail(sqlite3* db, std::string_view tail) {
  while (!tail.empty()) {
    std::string_view next;
    try {
      if (Statement(db, tail, &next) || next.size() == tail.size()) return false;
    } catch (const std::runtime_error&) {
      return false;
    }
    tail = next;
  }
  return true;
}

// A query compiled and vetted for history: one read-only statement whose
// columns have distinct names that history tables do not use themselves.
// Throws std::runtime_error naming the query and the problem.
class LiveQuery {
 public:
  LiveQuery(sqlite3* db, const QuerySpec& q) {
    const std::string who = "query '" + q.name + "'";
    if (q.sql.find('\0') != std::string::npos) throw std::runtime_error(who + " holds a NUL byte");
    std::string_view tail;
    try {
      stmt_ = Statement(db, q.sql, &tail);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(who + " does not compile: " + e.what());
    }
    if (!stmt_) throw std::runtime_error(who + " returns no columns");
    if (!blank_tail(db, tail)) throw std::runtime_error(who + " must be one statement: there is more SQL after the first ';'");
    if (!stmt_.readonly()) throw std::runtime_error(who + " is not read-only (a scheduled query may only read)");
    for (int i = 0; i < stmt_.columns(); ++i) {
      std::string c = stmt_.name(i);
      for (const char* m : kMeta)
        if (same_name(c, m)) throw std::runtime_error(who + " has a column named " + c + ", which history tables use themselves");
      if (!q.netns.empty() && same_name(c, "netns"))
        throw std::runtime_error(who + " has a column named netns, which the collector adds when it follows namespaces");
      for (const auto& earlier : columns)
        if (same_name(c, earlier))
          throw std::runtime_error(who + " has two columns named " + c + "; give each its own name (AS ...)");
      columns.push_back(c);
    }
    if (columns.empty()) throw std::runtime_error(who + " returns no columns");
  }
  Statement& statement() { return stmt_; }
  std::vector<std::string> columns;

 private:
  Statement stmt_;
};

// The query's columns as its history table stores them (before
// snapshot_id): with netns when a stream query follows namespaces.
std::vector<std::string> stored_columns(const QuerySpec& q, std::vector<std::string> cols) {
  if (!q.netns.empty()) cols.push_back("netns");
  return cols;
}

// Refuses a history table whose columns differ from the query's.
void check_columns(sqlite3* db, const QuerySpec& q, const std::vector<std::string>& cols) {
  auto have = existing_columns(db, q.name);
  if (have.empty()) return;
  std::vector<std::string> want = stored_columns(q, cols);
  want.push_back("snapshot_id");
  want.push_back("snapshot_time");
  if (q.differential) want.push_back("action");
  if (have != want)
    throw std::runtime_error("query '" + q.name + "': result columns changed (history table has " + join(have) +
                             "; query gives " + join(want) + "); rename the query or drop table " + q.name);
}

void drop_staging(sqlite3* db) {
  exec(db, "DROP TABLE IF EXISTS temp.netsql_delta; DROP TABLE IF EXISTS temp.netsql_staging");
}

// Runs the query, streaming its rows into temp.netsql_staging as they are
// stepped. The temp schema is private to this connection, so no lock on
// the history database is held while the query runs. Returns its columns.
std::vector<std::string> stage(sqlite3* db, const QuerySpec& q) {
  // Compiled while no staging table exists, so the query cannot read the
  // table its rows stream into (that would never end).
  drop_staging(db);
  LiveQuery live(db, q);
  const size_t n = live.columns.size();
  exec(db, "BEGIN");
  try {
    exec(db, "CREATE TEMP TABLE netsql_staging (" + positional(n) + ")");
    std::string marks;
    for (size_t i = 0; i < n; ++i) marks += i ? ", ?" : "?";
    Statement ins(db, "INSERT INTO temp.netsql_staging VALUES (" + marks + ")");
    Statement& rows = live.statement();
    while (rows.step()) {
      for (size_t i = 0; i < n; ++i) ins.bind(static_cast<int>(i) + 1, sqlite3_column_value(rows.get(), static_cast<int>(i)));
      ins.run();
      ins.reset();
    }
    rows.reset();
    exec(db, "COMMIT");
  } catch (...) {
    exec_quietly(db, "ROLLBACK");
    throw;
  }
  return live.columns;
}

// Writes the current row of `st` into `o` (an object just opened), keyed by
// `names`, each value a string as osquery logs them (NULL as ""), and ends it.
void json_columns(JsonObjectWriter o, const std::vector<std::string>& names, const Statement& st) {
  for (size_t i = 0; i < names.size(); ++i) {
    const int c = static_cast<int>(i);
    switch (st.type(c)) {
      case SQLITE_NULL: o.string(names[i], ""); break;
      case SQLITE_INTEGER: o.string(names[i], std::to_string(st.int64(c))); break;
      case SQLITE_FLOAT: o.string(names[i], fmt::format("{}", sqlite3_column_double(st.get(), c))); break;
      default: o.string(names[i], st.text(c));
    }
  }
  o.end();
}

// osquery's envelope fields for one event, as members to splice into each
// line's object (JsonObjectWriter::members).
std::string envelope(const std::string& name, const std::string& host, int64_t ms, int64_t counter,
                     const LogExtras& extras) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char cal[64];
  std::tm tm{};
  std::strftime(cal, sizeof cal, "%a %b %e %H:%M:%S %Y UTC", gmtime_r(&t, &tm));
  std::string env;
  JsonObjectWriter o(env, JsonObjectWriter::Braces::Without);
  o.string("name", name).string("hostIdentifier", host).string("calendarTime", cal).number("unixTime", ms / 1000);
  o.number("epoch", extras.epoch).number("counter", counter).boolean("numerics", false);
  if (!extras.decorations.empty()) o.json("decorations", extras.decorations);
  return env;
}

void write_catalog(sqlite3* db, const std::string& name, int64_t t0, const char* mode, const SnapshotOutcome& out,
                   int64_t overruns) {
  Statement cat(db,
                "INSERT INTO snapshots (id, name, time, mode, rows, added, removed, duration_ms, error, overruns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  cat.bind(1, out.id).bind(2, name).bind(3, t0).bind(4, mode).bind(5, out.rows).bind(6, out.added).bind(7, out.removed);
  cat.bind(8, now_ms() - t0).bind(10, overruns);
  if (out.error.empty()) cat.bind_null(9);
  else cat.bind(9, out.error);
  cat.run();
}

// The history table of `q` for the query's columns `cols`, if missing.
void create_history_table(sqlite3* db, const QuerySpec& q, const std::vector<std::string>& cols) {
  std::string decl;
  for (const auto& col : stored_columns(q, cols)) decl += quote_id(col) + ", ";
  const std::string table = quote_id(q.name);
  exec(db, "CREATE TABLE IF NOT EXISTS " + table + " (" + decl + "snapshot_id INTEGER NOT NULL, snapshot_time INTEGER NOT NULL" +
               (q.differential ? ", action TEXT NOT NULL)" : ")"));
  exec(db, "CREATE INDEX IF NOT EXISTS " + quote_id(q.name + "_by_snapshot") + " ON " + table + "(snapshot_id)");
}

// Retention: whole snapshots older than max_age_s; then the oldest rows
// beyond max_rows. Returns how many of the query's catalog rows went.
int64_t apply_retention(sqlite3* db, const QuerySpec& q, int64_t t0) {
  const std::string table = quote_id(q.name);
  int64_t catalog_deleted = 0;
  if (q.retention.max_age_s) {
    // Read through the snapshot_id index up to the newest snapshot that
    // aged (the catalog's (name, time) index finds it): what is deleted,
    // not the whole history, is read. (A row whose catalog row was deleted
    // by hand goes once a later snapshot ages.)
    int64_t cutoff = cutoff_ms(t0, *q.retention.max_age_s);
    Statement(db, "DELETE FROM " + table +
                      " WHERE snapshot_id <= (SELECT max(id) FROM snapshots INDEXED BY snapshots_by_name_time WHERE name = ?1 AND time < ?2)"
                      " AND snapshot_time < ?2")
        .bind(1, q.name)
        .bind(2, cutoff)
        .run();
    Statement(db, "DELETE FROM snapshots WHERE name = ?1 AND time < ?2").bind(1, q.name).bind(2, cutoff).run();
    catalog_deleted = sqlite3_changes64(db);
  }
  if (q.retention.max_rows) {
    Statement(db, "DELETE FROM " + table + " WHERE rowid IN (SELECT rowid FROM " + table + " ORDER BY rowid DESC LIMIT -1 OFFSET ?1)")
        .bind(1, int64_t{*q.retention.max_rows})
        .run();
  }
  return catalog_deleted;
}

}  // namespace

std::string check_query_name(const std::string& name) {
  if (name.empty()) return "query name is empty";
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
    return "query name '" + name + "' must start with a letter or '_'";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return "query name '" + name + "' may hold only letters, digits and '_'";
  if (name.rfind("sqlite_", 0) == 0 || name == "snapshots" || name.rfind("netsql_", 0) == 0)
    return "query name '" + name + "' is reserved";
  // A history table named like a netsql table would hide the live table
  // from every query on this database.
  for (const auto* def : vt::all_tables())
    if (def->name == name) return "query name '" + name + "' is the name of a netsql table; pick another";
  return "";
}

History::History(const std::string& path) : s_(path) {
  try {
    exec(s_.db(), "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                  "CREATE TABLE IF NOT EXISTS snapshots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                  "time INTEGER NOT NULL, mode TEXT NOT NULL, rows INTEGER NOT NULL, added INTEGER NOT NULL, "
                  "removed INTEGER NOT NULL, duration_ms INTEGER NOT NULL, error TEXT, "
                  "overruns INTEGER NOT NULL DEFAULT 0);"
                  "CREATE INDEX IF NOT EXISTS snapshots_by_name ON snapshots(name, id);"
                  "CREATE INDEX IF NOT EXISTS snapshots_by_name_time ON snapshots(name, time);");
    // overruns came with stream queries: a catalog from before gains it.
    if (!Statement(s_.db(), "SELECT count(*) FROM pragma_table_info('snapshots') WHERE name = 'overruns'").scalar())
      exec(s_.db(), "ALTER TABLE snapshots ADD COLUMN overruns INTEGER NOT NULL DEFAULT 0");
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot use history database " + path + ": " + e.what());
  }
}

int64_t History::begin_catalog(const std::string& name, SnapshotOutcome& out) {
  sqlite3* db = s_.db();
  out.id = Statement(db, "SELECT coalesce(max(id), 0) + 1 FROM snapshots").scalar();
  auto known = catalog_rows_.find(name);
  std::optional<CatalogCount> was;
  if (known != catalog_rows_.end()) {
    was = known->second;
    catalog_rows_.erase(known);  // counted again unless this run commits
  }
  // The newest run's id, from the (name, id) index: no other writer added one since.
  if (was && Statement(db, "SELECT coalesce(max(id), 0) FROM snapshots WHERE name = ?1").bind(1, name).scalar() == was->last_id)
    return was->rows;
  return Statement(db, "SELECT count(*) FROM snapshots WHERE name = ?1").bind(1, name).scalar();
}

void History::catalog_committed(const std::string& name, int64_t counter, int64_t deleted, int64_t id) {
  catalog_rows_[name] = {counter + 1 - deleted, id};
}

std::string History::check(const QuerySpec& q) {
  if (auto why = check_query_name(q.name); !why.empty()) return why;
  try {
    std::vector<std::string> cols = LiveQuery(s_.db(), q).columns;
    check_columns(s_.db(), q, cols);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

SnapshotOutcome History::snapshot(const QuerySpec& q, std::ostream* log, const std::string& host,
                                  const LogExtras& extras) {
  sqlite3* db = s_.db();
  SnapshotOutcome out;
  const int64_t t0 = now_ms();
  const std::string table = quote_id(q.name), baseline = quote_id("netsql_baseline_" + q.name);
  int64_t counter = 0;  // osquery's: how many earlier runs of this query (0: the first)
  int64_t catalog_deleted = 0;
  auto begin_catalog_row = [&] { counter = begin_catalog(q.name, out); };
  auto write_catalog_row = [&] { write_catalog(db, q.name, t0, q.differential ? "differential" : "snapshot", out, 0); };
  // Whatever happens, the staged rows do not outlive this snapshot.
  struct DropStaging {
    sqlite3* db;
    ~DropStaging() {
      try {
        drop_staging(db);
      } catch (const std::exception&) {  // the next snapshot drops them first
      }
    }
  } dropper{db};

  std::vector<std::string> cols;
  try {
    if (auto why = check_query_name(q.name); !why.empty()) throw std::runtime_error(why);
    cols = stage(db, q);
    const size_t n = cols.size();
    const std::string c = positional(n);
    in_transaction(db, [&] {
      check_columns(db, q, cols);
      begin_catalog_row();
      std::string decl;
      for (const auto& col : cols) decl += quote_id(col) + ", ";
      if (existing_columns(db, q.name).empty()) exec(db, "DROP TABLE IF EXISTS " + baseline);  // a baseline without its history is stale
      create_history_table(db, q, cols);
      out.rows = Statement(db, "SELECT count(*) FROM temp.netsql_staging").scalar();
      auto append = [&](const std::string& select, const char* action) {
        Statement ins(db, "INSERT INTO " + table + " SELECT " + c + ", ?1, ?2" + (action ? ", ?3" : "") + " FROM (" + select + ")");
        ins.bind(1, out.id).bind(2, t0);
        if (action) ins.bind(3, action);
        ins.run();
        return static_cast<int64_t>(sqlite3_changes64(db));
      };
      if (!q.differential) {
        out.added = append("SELECT * FROM temp.netsql_staging", nullptr);
      } else {
        // The multiset difference against the baseline kept in the
        // database, computed by SQLite (which spills to disk) rather than
        // in memory: per distinct row, how many more now than before.
        exec(db, "CREATE TABLE IF NOT EXISTS " + baseline + " (" + decl + "netsql_count INTEGER NOT NULL)");
        std::string base_cols;
        for (size_t i = 0; i < n; ++i) base_cols += quote_id(cols[i]) + " AS c" + std::to_string(i + 1) + ", ";
        exec(db, "CREATE TEMP TABLE netsql_delta AS SELECT " + c + ", sum(k) AS k FROM (SELECT " + c +
                     ", 1 AS k FROM temp.netsql_staging UNION ALL SELECT " + base_cols + "-netsql_count FROM main." + baseline +
                     ") GROUP BY " + c + " HAVING sum(k) != 0");
        out.added = append(expansion(n, true), "added");
        if (q.removed) out.removed = append(expansion(n, false), "removed");
        exec(db, "DELETE FROM main." + baseline);
        exec(db, "INSERT INTO main." + baseline + " SELECT " + c + ", count(*) FROM temp.netsql_staging GROUP BY " + c);
      }
      catalog_deleted = apply_retention(db, q, t0);
      write_catalog_row();
    });
    catalog_committed(q.name, counter, catalog_deleted, out.id);
  } catch (const std::exception& e) {
    // Any failure becomes the run's catalog row, in a transaction of its own.
    out = SnapshotOutcome{};
    out.error = e.what();
    try {
      in_transaction(db, [&] {
        begin_catalog_row();
        write_catalog_row();
      });
      catalog_committed(q.name, counter, 0, out.id);
    } catch (const std::exception& e2) {
      throw std::runtime_error(out.error + " (and recording that failed: " + e2.what() + ")");
    }
    return out;
  }
  if (log) {
    // Streamed from the staged rows: the log never holds a result in
    // memory, only the row being written.
    std::string env = envelope(q.log_or_name(), host, t0, counter, extras), text;
    auto put = [&] {
      log->write(text.data(), static_cast<std::streamsize>(text.size()));
      text.clear();
    };
    auto each = [&](const std::string& select, auto&& row) {
      try {
        Statement st(db, select);
        while (st.step()) {
          row(st);
          put();
        }
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("writing the log: " + std::string(e.what()));
      }
    };
    // A JSON array's rows, each written out as it is stepped.
    auto rows_of = [&](JsonArrayWriter& rows, const std::string& select) {
      each(select, [&](const Statement& st) { json_columns(rows.object(), cols, st); });
      rows.end();
    };
    if (!q.differential) {
      JsonObjectWriter line(text);
      JsonArrayWriter rows = line.array("snapshot");
      rows_of(rows, "SELECT * FROM temp.netsql_staging");
      line.string("action", "snapshot").members(env).end();
      text += '\n';
      put();
    } else if (extras.batch) {
      // osquery's batch format: one line per run that changed something.
      if (out.added > 0 || out.removed > 0) {
        JsonObjectWriter line(text);
        line.members(env);
        JsonObjectWriter diff = line.object("diffResults");
        JsonArrayWriter added = diff.array("added");
        rows_of(added, expansion(cols.size(), true));
        JsonArrayWriter removed = diff.array("removed");
        if (q.removed) rows_of(removed, expansion(cols.size(), false));
        else removed.end();
        diff.end();
        line.end();
        text += '\n';
        put();
      }
    } else {
      for (const char* action : {"added", "removed"}) {
        if (action[0] == 'r' && !q.removed) continue;
        each(expansion(cols.size(), action[0] == 'a'), [&](const Statement& st) {
          JsonObjectWriter line(text);
          json_columns(line.members(env).object("columns"), cols, st);
          line.string("action", action).end();
          text += '\n';
        });
      }
    }
    log->flush();
  }
  return out;
}

SnapshotOutcome History::append(const QuerySpec& q, const std::vector<std::string>& columns, const StreamBatch& batch,
                                std::ostream* log, const std::string& host, const LogExtras& extras) {
  sqlite3* db = s_.db();
  SnapshotOutcome out;
  if (batch.rows.empty() && batch.overruns == 0 && batch.error.empty()) return out;
  const int64_t t0 = now_ms();
  const std::vector<std::string> stored = stored_columns(q, columns);
  int64_t counter = 0, catalog_deleted = 0;
  in_transaction(db, [&] {
    check_columns(db, q, columns);
    counter = begin_catalog(q.name, out);
    create_history_table(db, q, columns);
    std::string marks;
    for (size_t i = 0; i < stored.size(); ++i) marks += "?, ";
    Statement ins(db, "INSERT INTO " + quote_id(q.name) + " VALUES (" + marks + "?, ?)");
    const int n = static_cast<int>(stored.size());
    ins.bind(n + 1, out.id).bind(n + 2, t0);  // the batch's, kept by each reset
    for (const auto& row : batch.rows) {
      if (row.size() != stored.size()) throw std::runtime_error("query '" + q.name + "': a row of the wrong width");
      for (int i = 0; i < n; ++i) ins.bind(i + 1, row[static_cast<size_t>(i)], Statement::Keep::Reference);  // the batch outlives the step
      ins.run();
      ins.reset();
    }
    out.rows = out.added = static_cast<int64_t>(batch.rows.size());
    out.error = batch.error;
    catalog_deleted = apply_retention(db, q, t0);
    write_catalog(db, q.name, t0, "stream", out, batch.overruns);
  });
  catalog_committed(q.name, counter, catalog_deleted, out.id);
  if (log && out.rows > 0) try {
    // osquery's event lines, read back from what was just committed.
    std::string env = envelope(q.log_or_name(), host, t0, counter, extras), select;
    for (const auto& c : stored) select += (select.empty() ? "" : ", ") + quote_id(c);
    Statement st(db, "SELECT " + select + " FROM " + quote_id(q.name) + " WHERE snapshot_id = ?1 ORDER BY rowid");
    st.bind(1, out.id);
    std::string text;
    while (st.step()) {
      text.clear();
      JsonObjectWriter line(text);
      json_columns(line.members(env).object("columns"), stored, st);
      line.string("action", "added").end();
      text += '\n';
      log->write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    log->flush();
  } catch (const std::exception& e) {
    // The batch is committed: said, not thrown (a retry would store it twice).
    std::cerr << q.name << ": batch " << out.id << " is stored but its log lines were not written: " << e.what()
              << std::endl;
  }
  return out;
}

}  // namespace netsql::shell
