// The shell's one wrapper for a prepared SQLite statement: prepared with
// SQLite's message in the exception when the SQL is wrong, bound, stepped,
// and finalized by its destructor however its scope ends.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "value.h"

namespace netsql::shell {

// sqlite3_errmsg(db), with what to do when a view or trigger stored in the
// database reads a netsql table (SQLite refuses: the tables are
// DIRECTONLY, and its message cannot say so).
std::string sql_error(sqlite3* db);

class Statement {
 public:
  Statement() = default;
  // Prepares the first statement of `sql` on `db`; throws
  // std::runtime_error(sql_error(db)) when it does not compile. With
  // `rest`, stores there the SQL after that statement. SQL that holds no
  // statement (blanks, comments) gives an empty Statement (false).
  // `sql` must be followed by a NUL byte in memory: a std::string, a
  // literal, or the end of one (the `rest` of an earlier Statement).
  Statement(sqlite3* db, std::string_view sql, std::string_view* rest = nullptr);
  ~Statement() { sqlite3_finalize(st_); }
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  explicit operator bool() const { return st_ != nullptr; }
  sqlite3_stmt* get() const { return st_; }
  bool readonly() const { return sqlite3_stmt_readonly(st_) != 0; }

  // Parameters, counted from 1. Text and BLOBs are copied (unless a Value
  // says Keep::Reference).
  Statement& bind(int at, int64_t v);
  Statement& bind(int at, double v);
  Statement& bind(int at, std::string_view text);
  Statement& bind(int at, const std::string& text) { return bind(at, std::string_view(text)); }
  Statement& bind(int at, const char* text) { return bind(at, std::string_view(text)); }
  // Keep::Reference binds `v`'s text or bytes where they are: they must
  // stay unchanged while the parameter keeps this binding (until it is
  // bound again or the statement finalized; a reset keeps bindings).
  enum class Keep { Copy, Reference };
  Statement& bind(int at, const Value& v, Keep keep = Keep::Copy);
  Statement& bind(int at, sqlite3_value* v);
  Statement& bind_null(int at);

  // Steps: true at a row, false at the end; throws
  // std::runtime_error(sql_error(db)) when the statement fails.
  bool step();
  // Steps to the end (a statement that returns nothing, or rows to skip).
  void run();
  // The first column of the first row as an integer; throws when there is no row.
  int64_t scalar();
  // For the next step() from the start, bindings kept.
  void reset() { sqlite3_reset(st_); }

  int columns() const { return sqlite3_column_count(st_); }
  std::string name(int i) const { return sqlite3_column_name(st_, i); }
  int type(int i) const { return sqlite3_column_type(st_, i); }
  int64_t int64(int i) const { return sqlite3_column_int64(st_, i); }
  // The column's text (a BLOB's bytes as they are); "" for NULL.
  std::string_view text(int i) const;

 private:
  Statement& bound(int rc);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

// Runs every statement of `sql` in turn (rows skipped); throws
// std::runtime_error(sql_error(db)) at the first that fails.
void exec(sqlite3* db, const std::string& sql);
// The same for undoing after an error (ROLLBACK ...): a failure of its own
// is dropped, so that the error being handled is the one reported.
void exec_quietly(sqlite3* db, const std::string& sql) noexcept;

}  // namespace netsql::shell
