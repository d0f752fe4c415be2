#include "statement.h"

#include <limits>
#include <stdexcept>
#include <utility>

namespace netsql::shell {

std::string sql_error(sqlite3* db) {
  std::string msg = sqlite3_errmsg(db);
  if (msg.rfind("unsafe use of virtual table", 0) == 0)
    msg += " (netsql tables can be read by top-level SQL and TEMP views and triggers only, not by views or triggers "
           "stored in a database file: use CREATE TEMP VIEW)";
  return msg;
}

Statement::Statement(sqlite3* db, std::string_view sql, std::string_view* rest) : db_(db) {
  if (sql.size() >= static_cast<size_t>(std::numeric_limits<int>::max())) throw std::runtime_error("SQL text too long");
  const char* tail = nullptr;
  // The NUL after the text is counted (statement.h: it is there), so that
  // SQLite parses in place: without it SQLite copies the whole rest of the
  // text at every prepare, quadratic in a script of many statements.
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()) + 1, &st_, &tail) != SQLITE_OK) {
    sqlite3_finalize(st_);
    st_ = nullptr;
    throw std::runtime_error(sql_error(db));
  }
  if (rest) *rest = sql.substr(tail ? std::min(static_cast<size_t>(tail - sql.data()), sql.size()) : sql.size());
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), st_(std::exchange(o.st_, nullptr)) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(st_);
    db_ = o.db_;
    st_ = std::exchange(o.st_, nullptr);
  }
  return *this;
}

Statement& Statement::bind(int at, int64_t v) {
  return bound(sqlite3_bind_int64(st_, at, v));
}

Statement& Statement::bind(int at, double v) {
  return bound(sqlite3_bind_double(st_, at, v));
}

Statement& Statement::bind(int at, std::string_view text) {
  return bound(sqlite3_bind_text64(st_, at, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Statement& Statement::bind(int at, const Value& v, Keep keep) {
  if (const auto* i = std::get_if<int64_t>(&v)) return bind(at, *i);
  if (const auto* d = std::get_if<double>(&v)) return bind(at, *d);
  auto destructor = keep == Keep::Copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
  if (const auto* t = std::get_if<std::string>(&v))
    return bound(sqlite3_bind_text64(st_, at, t->data(), t->size(), destructor, SQLITE_UTF8));
  if (const auto* b = std::get_if<Blob>(&v))
    return bound(sqlite3_bind_blob64(st_, at, b->bytes.data(), b->bytes.size(), destructor));
  return bind_null(at);
}

Statement& Statement::bind(int at, sqlite3_value* v) {
  return bound(sqlite3_bind_value(st_, at, v));
}

Statement& Statement::bind_null(int at) {
  return bound(sqlite3_bind_null(st_, at));
}

// A value SQLite refuses (too big, no such parameter) is an error, not a
// NULL stored in its place.
Statement& Statement::bound(int rc) {
  if (rc != SQLITE_OK) throw std::runtime_error(sql_error(db_));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw std::runtime_error(sql_error(db_));
}

void Statement::run() {
  while (step()) {
  }
}

int64_t Statement::scalar() {
  if (!step()) throw std::runtime_error("no row from: " + std::string(sqlite3_sql(st_)));
  return int64(0);
}

std::string_view Statement::text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st_, i))) : std::string_view();
}

void exec(sqlite3* db, const std::string& sql) {
  for (std::string_view rest = sql; !rest.empty();) {
    Statement st(db, rest, &rest);
    if (!st) break;
    st.run();
  }
}

void exec_quietly(sqlite3* db, const std::string& sql) noexcept {
  try {
    exec(db, sql);
  } catch (...) {
  }
}

}  // namespace netsql::shell
