// A shell session: one SQLite connection with every netsql table
// registered, the output settings, and statement execution.
#pragma once

#include <sqlite3.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "output.h"
#include "statement.h"

namespace netsql::shell {

// One statement's rows, stepped one at a time: the current row's values
// are overwritten by the next step, so a result of any size takes the
// memory of one row.
class Rows {
 public:
  explicit Rows(Statement st);

  const std::vector<std::string>& columns() const { return columns_; }
  // Steps to the next row: false at the end. Throws std::runtime_error
  // with SQLite's message when the statement fails.
  bool next();
  const std::vector<Value>& row() const { return row_; }
  // next(), the row read into `row` (resized to the columns; its strings
  // keep their buffers) instead of row().
  bool next(std::vector<Value>& row);

 private:
  Statement st_;
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
  // rows are stepped (to the .output file when one is open). On an error
  // prints "Error: <message>" to `err` and returns false (the rows written
  // before it stay written). With `line` (a script's line where `sql`
  // starts), errors say where, as sqlite3 does: "Parse error near line N:"
  // when a statement does not prepare, "Runtime error near line N:" when
  // it fails while running.
  bool run(const std::string& sql, std::ostream& out = std::cout, std::ostream& err = std::cerr, size_t line = 0);
  // Prepares the first statement of `sql` for stepping (the netstat front
  // end, .tables). Throws std::runtime_error with SQLite's message.
  Rows query(const std::string& sql);

  // .open: closes the database and opens `path` in its place, the netsql
  // tables registered on it too. Throws std::runtime_error (and keeps the
  // database open now) when `path` cannot be opened.
  void open(const std::string& path);
  const std::string& filename() const { return filename_; }

  // .output / .once: where results go; `out` when no file is open.
  // redirect() throws std::runtime_error naming the file it cannot open.
  std::ostream& out(std::ostream& fallback) { return redirect_ ? *redirect_ : fallback; }
  void redirect(const std::string& path, bool once);
  void end_redirect();
  // After each command but .once itself: closes a .once file.
  void command_done();
  std::string output_name() const { return redirect_ ? redirect_path_ : "stdout"; }

  sqlite3* db() { return db_; }
  OutputOptions output;
  bool timer = false;
  bool bail = false;     // .bail: a script stops at its first error
  bool eqp = false;      // .eqp: the query plan before each statement
  bool changes = false;  // .changes: rows changed after each statement
  int read_depth = 0;     // .read within .read: at most kMaxReadDepth deep
  static constexpr int kMaxReadDepth = 25;  // sqlite3's input nesting limit
  bool leaving = false;          // .quit or .exit ran: stop reading input
  std::optional<int> exit_code;  // .exit: leave with this status

 private:
  void print_plan(const Statement& st, std::ostream& out);

  sqlite3* db_ = nullptr;
  std::string filename_;
  std::unique_ptr<std::ofstream> redirect_;
  std::string redirect_path_;
  bool once_ = false;
};

// For SIGINT handlers: interrupts whatever the current session runs.
void interrupt_current();

}  // namespace netsql::shell
