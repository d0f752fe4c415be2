#include "session.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>

extern "C" int sqlite3_netsql_init(sqlite3* db, char** err, const sqlite3_api_routines* api);

namespace netsql::shell {

namespace {

std::atomic<sqlite3*> g_current{nullptr};

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

Rows::Rows(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {
  const int n = sqlite3_column_count(st_);
  for (int i = 0; i < n; ++i) columns_.emplace_back(sqlite3_column_name(st_, i));
  row_.resize(columns_.size());
}

Rows::~Rows() { sqlite3_finalize(st_); }

Rows::Rows(Rows&& o) noexcept
    : db_(o.db_), st_(std::exchange(o.st_, nullptr)), columns_(std::move(o.columns_)), row_(std::move(o.row_)) {}

bool Rows::next() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) throw std::runtime_error(error_of(db_));
  for (size_t i = 0; i < row_.size(); ++i) {
    const int c = static_cast<int>(i);
    Value& v = row_[i];
    switch (sqlite3_column_type(st_, c)) {
      case SQLITE_INTEGER: v = static_cast<int64_t>(sqlite3_column_int64(st_, c)); break;
      case SQLITE_FLOAT: v = sqlite3_column_double(st_, c); break;
      case SQLITE_NULL: v = std::monostate{}; break;
      case SQLITE_BLOB: {
        // As hex(x) writes it: every format stays valid text (JSON: UTF-8).
        const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st_, c));
        size_t len = static_cast<size_t>(sqlite3_column_bytes(st_, c));
        auto* s = std::get_if<std::string>(&v);
        if (!s) s = &v.emplace<std::string>();
        s->clear();
        for (size_t k = 0; k < len; ++k) {
          s->push_back("0123456789ABCDEF"[p[k] >> 4]);
          s->push_back("0123456789ABCDEF"[p[k] & 15]);
        }
        break;
      }
      default: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
        size_t len = static_cast<size_t>(sqlite3_column_bytes(st_, c));
        // Assigned into the string the previous row left, to reuse its buffer.
        if (auto* s = std::get_if<std::string>(&v)) s->assign(p ? p : "", len);
        else v.emplace<std::string>(p ? p : "", len);
      }
    }
  }
  return true;
}

Rows Session::query(const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) throw std::runtime_error(error_of(db_));
  if (!st) throw std::runtime_error("no statement in: " + sql);
  return Rows(db_, st);
}

bool Session::run(const std::string& sql, std::ostream& out, std::ostream& err) {
  const char* tail = sql.c_str();
  while (*tail) {
    auto t0 = std::chrono::steady_clock::now();
    sqlite3_stmt* st = nullptr;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(db_, tail, -1, &st, &next) != SQLITE_OK) {
      err << "Error: " << error_of(db_) << "\n";
      return false;
    }
    tail = next;
    if (!st) continue;  // whitespace or a comment
    Rows rows(db_, st);
    std::optional<ResultWriter> w;
    if (!rows.columns().empty()) w.emplace(out, rows.columns(), output);
    size_t n = 0;
    try {
      for (; rows.next(); ++n)
        if (w) w->row(rows.row());
    } catch (const std::runtime_error& e) {
      if (w) w->end(false);
      out.flush();
      err << "Error: " << e.what() << "\n";
      return false;
    }
    if (w) w->end(true);
    if (timer) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      err << "Run Time: " << ms << " ms (" << n << " rows)\n";
    }
  }
  out.flush();
  return true;
}

}  // namespace netsql::shell
