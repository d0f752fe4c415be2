#include "history.h"

#include "vtabs/registry.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <stdexcept>

namespace netsql::shell {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string quote_id(const std::string& id) {
  std::string s = "\"";
  for (char c : id) s += c == '"' ? std::string("\"\"") : std::string(1, c);
  return s + "\"";
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

struct Stmt {
  sqlite3_stmt* st = nullptr;
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st); }
};

void bind(sqlite3_stmt* st, int i, const Value& v) {
  if (auto x = std::get_if<int64_t>(&v)) sqlite3_bind_int64(st, i, *x);
  else if (auto d = std::get_if<double>(&v)) sqlite3_bind_double(st, i, *d);
  else if (auto s = std::get_if<std::string>(&v)) sqlite3_bind_text(st, i, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, i);
}

// A row as a multiset key: type-tagged, so 1 and '1' differ.
std::string row_key(const std::vector<Value>& row) {
  std::string k;
  for (const auto& v : row) {
    if (auto x = std::get_if<int64_t>(&v)) k += "i" + std::to_string(*x);
    else if (auto d = std::get_if<double>(&v)) k += fmt::format("r{}", *d);
    else if (auto s = std::get_if<std::string>(&v)) k += "t" + std::to_string(s->size()) + ":" + *s;
    else k += "n";
    k += '\x1f';
  }
  return k;
}

// Columns of the history table `table`; empty when the database has none.
std::vector<std::string> existing_columns(sqlite3* db, const std::string& table) {
  std::vector<std::string> cols;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT p.name FROM main.sqlite_schema s, pragma_table_info(s.name) p "
                     "WHERE s.type = 'table' AND s.name = ?1",
                     -1, &st, nullptr);
  sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW) cols.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  return cols;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

const char* const kMeta[] = {"snapshot_id", "snapshot_time", "action"};

std::string json_text(const Value& v) {
  if (auto x = std::get_if<int64_t>(&v)) return json_string(std::to_string(*x));
  if (auto d = std::get_if<double>(&v)) return json_string(fmt::format("{}", *d));
  if (auto s = std::get_if<std::string>(&v)) return json_string(*s);
  return "\"\"";
}

std::string json_columns(const std::vector<std::string>& names, const std::vector<Value>& row) {
  std::string s = "{";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? "," : "") + json_string(names[i]) + ":" + json_text(row[i]);
  return s + "}";
}

// osquery's envelope fields for one event.
std::string envelope(const std::string& name, const std::string& host, int64_t ms, int64_t counter) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char cal[64];
  std::strftime(cal, sizeof cal, "%a %b %e %H:%M:%S %Y UTC", std::gmtime(&t));
  return fmt::format("\"name\":{},\"hostIdentifier\":{},\"calendarTime\":{},\"unixTime\":{},\"epoch\":0,\"counter\":{},"
                     "\"numerics\":false",
                     json_string(name), json_string(host), json_string(cal), ms / 1000, counter);
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
                  "removed INTEGER NOT NULL, duration_ms INTEGER NOT NULL, error TEXT);"
                  "CREATE INDEX IF NOT EXISTS snapshots_by_name ON snapshots(name, id);");
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot use history database " + path + ": " + e.what());
  }
}

std::string History::check(const QuerySpec& q) {
  if (auto why = check_query_name(q.name); !why.empty()) return why;
  std::vector<std::string> cols;
  try {
    Stmt st(s_.db(), q.sql);
    for (int i = 0; i < sqlite3_column_count(st.st); ++i) cols.emplace_back(sqlite3_column_name(st.st, i));
  } catch (const std::exception& e) {
    return "query '" + q.name + "' does not compile: " + e.what();
  }
  if (cols.empty()) return "query '" + q.name + "' returns no columns";
  for (const auto& c : cols)
    for (const char* m : kMeta)
      if (c == m) return "query '" + q.name + "' has a column named " + c + ", which history tables use themselves";
  auto have = existing_columns(s_.db(), q.name);
  if (!have.empty()) {
    std::vector<std::string> want = cols;
    want.push_back("snapshot_id");
    want.push_back("snapshot_time");
    if (q.differential) want.push_back("action");
    if (have != want)
      return "query '" + q.name + "': result columns changed (history table has " + join(have) + "; query gives " +
             join(want) + "); rename the query or drop table " + q.name;
  }
  return "";
}

SnapshotOutcome History::snapshot(const QuerySpec& q, std::ostream* log, const std::string& host) {
  sqlite3* db = s_.db();
  SnapshotOutcome out;
  int64_t t0 = now_ms();
  std::string mode = q.differential ? "differential" : "snapshot";
  Result r;
  try {
    r = s_.query(q.sql);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  if (out.error.empty()) {
    if (std::string why = check(q); !why.empty()) out.error = why;
  }
  exec(db, "BEGIN IMMEDIATE");
  try {
    {
      Stmt id(db, "SELECT coalesce(max(id), 0) + 1 FROM snapshots");
      sqlite3_step(id.st);
      out.id = sqlite3_column_int64(id.st, 0);
    }
    int64_t counter = 0;  // osquery's: how many earlier runs of this query (0: the first)
    {
      Stmt n(db, "SELECT count(*) FROM snapshots WHERE name = ?1");
      sqlite3_bind_text(n.st, 1, q.name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_step(n.st);
      counter = sqlite3_column_int64(n.st, 0);
    }
    std::vector<std::pair<std::vector<Value>, const char*>> rows;  // what to append, and its action
    if (out.error.empty()) {
      std::string cols;
      for (const auto& c : r.columns) cols += quote_id(c) + ", ";
      std::string table = quote_id(q.name), baseline = quote_id("netsql_baseline_" + q.name);
      exec(db, "CREATE TABLE IF NOT EXISTS " + table + " (" + cols + "snapshot_id INTEGER NOT NULL, snapshot_time INTEGER NOT NULL" +
                   (q.differential ? ", action TEXT NOT NULL)" : ")"));
      exec(db, "CREATE INDEX IF NOT EXISTS " + quote_id(q.name + "_by_snapshot") + " ON " + table + "(snapshot_id)");
      out.rows = static_cast<int64_t>(r.rows.size());
      if (!q.differential) {
        for (const auto& row : r.rows) rows.push_back({row, nullptr});
      } else {
        // The multiset difference against the baseline kept in the database.
        exec(db, "CREATE TABLE IF NOT EXISTS " + baseline + " (" + cols + "netsql_count INTEGER NOT NULL)");
        std::map<std::string, std::pair<std::vector<Value>, int64_t>> now, before;
        for (const auto& row : r.rows) {
          auto& e = now[row_key(row)];
          e.first = row;
          ++e.second;
        }
        Result base = s_.query("SELECT * FROM " + baseline);
        for (auto& row : base.rows) {
          int64_t n = std::get<int64_t>(row.back());
          row.pop_back();
          auto& e = before[row_key(row)];
          e.first = row;
          e.second += n;
        }
        for (const auto& [k, e] : now) {
          auto it = before.find(k);
          for (int64_t i = it == before.end() ? 0 : it->second.second; i < e.second; ++i) rows.push_back({e.first, "added"});
        }
        for (const auto& [k, e] : before) {
          auto it = now.find(k);
          for (int64_t i = it == now.end() ? 0 : it->second.second; i < e.second; ++i)
            if (q.removed) rows.push_back({e.first, "removed"});
        }
        exec(db, "DELETE FROM " + baseline);
        std::string marks;
        for (size_t i = 0; i <= r.columns.size(); ++i) marks += i ? ", ?" : "?";
        Stmt ins(db, "INSERT INTO " + baseline + " VALUES (" + marks + ")");
        for (const auto& [k, e] : now) {
          for (size_t i = 0; i < e.first.size(); ++i) bind(ins.st, static_cast<int>(i) + 1, e.first[i]);
          sqlite3_bind_int64(ins.st, static_cast<int>(e.first.size()) + 1, e.second);
          if (sqlite3_step(ins.st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
          sqlite3_reset(ins.st);
        }
      }
      std::string marks;
      size_t n = r.columns.size() + 2 + (q.differential ? 1 : 0);
      for (size_t i = 0; i < n; ++i) marks += i ? ", ?" : "?";
      Stmt ins(db, "INSERT INTO " + table + " VALUES (" + marks + ")");
      for (const auto& [row, action] : rows) {
        for (size_t i = 0; i < row.size(); ++i) bind(ins.st, static_cast<int>(i) + 1, row[i]);
        sqlite3_bind_int64(ins.st, static_cast<int>(row.size()) + 1, out.id);
        sqlite3_bind_int64(ins.st, static_cast<int>(row.size()) + 2, t0);
        if (action) sqlite3_bind_text(ins.st, static_cast<int>(row.size()) + 3, action, -1, SQLITE_STATIC);
        if (sqlite3_step(ins.st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
        sqlite3_reset(ins.st);
        if (action && std::string(action) == "added") ++out.added;
        if (action && std::string(action) == "removed") ++out.removed;
      }
      if (!q.differential) out.added = out.rows;
      // Retention: whole snapshots older than max_age_s; then the oldest
      // rows beyond max_rows.
      if (q.retention.max_age_s) {
        int64_t cutoff = t0 - *q.retention.max_age_s * 1000;
        exec(db, fmt::format("DELETE FROM {} WHERE snapshot_time < {}", table, cutoff));
        exec(db, fmt::format("DELETE FROM snapshots WHERE name = '{}' AND time < {}", q.name, cutoff));
      }
      if (q.retention.max_rows)
        exec(db, fmt::format("DELETE FROM {0} WHERE rowid IN (SELECT rowid FROM {0} ORDER BY rowid DESC LIMIT -1 OFFSET {1})",
                             table, *q.retention.max_rows));
    }
    Stmt cat(db, "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_bind_int64(cat.st, 1, out.id);
    sqlite3_bind_text(cat.st, 2, q.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(cat.st, 3, t0);
    sqlite3_bind_text(cat.st, 4, mode.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(cat.st, 5, out.rows);
    sqlite3_bind_int64(cat.st, 6, out.added);
    sqlite3_bind_int64(cat.st, 7, out.removed);
    sqlite3_bind_int64(cat.st, 8, now_ms() - t0);
    if (out.error.empty()) sqlite3_bind_null(cat.st, 9);
    else sqlite3_bind_text(cat.st, 9, out.error.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(cat.st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
    exec(db, "COMMIT");
    if (log && out.error.empty()) {
      std::string env = envelope(q.name, host, t0, counter);
      if (!q.differential) {
        std::string snap = "[";
        for (size_t i = 0; i < r.rows.size(); ++i) snap += (i ? "," : "") + json_columns(r.columns, r.rows[i]);
        *log << "{\"snapshot\":" << snap << "],\"action\":\"snapshot\"," << env << "}\n";
      } else {
        for (const auto& [row, action] : rows)
          *log << "{" << env << ",\"columns\":" << json_columns(r.columns, row) << ",\"action\":\"" << action << "\"}\n";
      }
      log->flush();
    }
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return out;
}

}  // namespace netsql::shell
