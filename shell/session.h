// A shell session: one SQLite connection with every netsql table
// registered, the output settings, and statement execution.
#pragma once

#include <sqlite3.h>

#include <iostream>
#include <string>
#include <vector>

#include "output.h"

namespace netsql::shell {

// One statement's rows, stepped one at a time: the current row's values
// are overwritten by the next step, so a result of any size takes the
// memory of one row.
class Rows {
 public:
  // Takes `st` (prepared on `db`; finalized here).
  Rows(sqlite3* db, sqlite3_stmt* st);
  ~Rows();
  Rows(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  Rows& operator=(Rows&&) = delete;

  const std::vector<std::string>& columns() const { return columns_; }
  // Steps to the next row: false at the end. Throws std::runtime_error
  // with SQLite's message when the statement fails.
  bool next();
  const std::vector<Value>& row() const { return row_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;
  std::vector<std::string> columns_;
  std::vector<Value> row_;
};

class Session {
 public:
  // Opens `db_path` (":memory:" for none) and registers the netsql tables
  // and functions. Throws std::runtime_error on failure.
  explicit Session(const std::string& db_path);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs every statement of `sql` in order, writing each result as its
  // rows are stepped. On an error prints "Error: <message>" to `err` and
  // returns false (the rows written before it stay written).
  bool run(const std::string& sql, std::ostream& out = std::cout, std::ostream& err = std::cerr);
  // Prepares the first statement of `sql` for stepping (the netstat front
  // end, .tables). Throws std::runtime_error with SQLite's message.
  Rows query(const std::string& sql);

  sqlite3* db() { return db_; }
  OutputOptions output;
  bool timer = false;

 private:
  sqlite3* db_ = nullptr;
};

// For SIGINT handlers: interrupts whatever the current session runs.
void interrupt_current();

}  // namespace netsql::shell
