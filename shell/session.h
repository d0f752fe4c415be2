// A shell session: one SQLite connection with every netsql table
// registered, the output settings, and statement execution.
#pragma once

#include <sqlite3.h>

#include <iostream>
#include <string>

#include "output.h"

namespace netsql::shell {

class Session {
 public:
  // Opens `db_path` (":memory:" for none) and registers the netsql tables
  // and functions. Throws std::runtime_error on failure.
  explicit Session(const std::string& db_path);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs every statement of `sql` in order, writing each result. On an
  // error prints "Error: <message>" to `err` and returns false.
  bool run(const std::string& sql, std::ostream& out = std::cout, std::ostream& err = std::cerr);
  // Runs one query and returns its rows (for the netstat front end).
  Result query(const std::string& sql);

  sqlite3* db() { return db_; }
  OutputOptions output;
  bool timer = false;

 private:
  sqlite3* db_ = nullptr;
};

// For SIGINT handlers: interrupts whatever the current session runs.
void interrupt_current();

}  // namespace netsql::shell
