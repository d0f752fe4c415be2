#include "session.h"

#include <atomic>
#include <chrono>
#include <stdexcept>

extern "C" int sqlite3_netsql_init(sqlite3* db, char** err, const sqlite3_api_routines* api);

namespace netsql::shell {

namespace {

std::atomic<sqlite3*> g_current{nullptr};

Value value_at(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return sqlite3_column_double(st, i);
    case SQLITE_NULL: return std::monostate{};
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, i)));
    }
  }
}

// sqlite3_errmsg, with what to do when a view or trigger stored in the
// database reads a netsql table (SQLite refuses: the tables are
// DIRECTONLY, and its message cannot say so).
std::string error_of(sqlite3* db) {
  std::string msg = sqlite3_errmsg(db);
  if (msg.rfind("unsafe use of virtual table", 0) == 0)
    msg += " (netsql tables can be read by top-level SQL and TEMP views and triggers only, not by views or triggers "
           "stored in a database file: use CREATE TEMP VIEW)";
  return msg;
}

struct Stmt {
  sqlite3_stmt* st = nullptr;
  ~Stmt() { sqlite3_finalize(st); }
};

}  // namespace

void interrupt_current() {
  if (sqlite3* db = g_current.load()) sqlite3_interrupt(db);
}

Session::Session(const std::string& path) {
  // The same registration function the loadable extension uses, run by
  // SQLite itself for every connection this process opens.
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_netsql_init));
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  g_current = db_;
}

Session::~Session() {
  g_current = nullptr;
  sqlite3_close(db_);
}

Result Session::query(const std::string& sql) {
  Result r;
  Stmt s;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s.st, nullptr) != SQLITE_OK) throw std::runtime_error(error_of(db_));
  for (int i = 0; i < sqlite3_column_count(s.st); ++i) r.columns.push_back(sqlite3_column_name(s.st, i));
  int rc;
  while ((rc = sqlite3_step(s.st)) == SQLITE_ROW) {
    std::vector<Value> row;
    for (int i = 0; i < sqlite3_column_count(s.st); ++i) row.push_back(value_at(s.st, i));
    r.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) throw std::runtime_error(error_of(db_));
  return r;
}

bool Session::run(const std::string& sql, std::ostream& out, std::ostream& err) {
  const char* tail = sql.c_str();
  while (*tail) {
    auto t0 = std::chrono::steady_clock::now();
    Stmt s;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(db_, tail, -1, &s.st, &next) != SQLITE_OK) {
      err << "Error: " << error_of(db_) << "\n";
      return false;
    }
    tail = next;
    if (!s.st) continue;  // whitespace or a comment
    Result r;
    int n = sqlite3_column_count(s.st);
    for (int i = 0; i < n; ++i) r.columns.push_back(sqlite3_column_name(s.st, i));
    int rc;
    while ((rc = sqlite3_step(s.st)) == SQLITE_ROW) {
      std::vector<Value> row;
      for (int i = 0; i < n; ++i) row.push_back(value_at(s.st, i));
      r.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      err << "Error: " << error_of(db_) << "\n";
      return false;
    }
    if (n > 0) write_result(out, r, output);
    if (timer) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      err << "Run Time: " << ms << " ms (" << r.rows.size() << " rows)\n";
    }
  }
  out.flush();
  return true;
}

}  // namespace netsql::shell
