// Scripts (-f FILE, standard input, .read FILE, the SQL argument): read a
// line at a time and run each statement as soon as it is complete, so
// memory holds one statement, never the whole input.
#pragma once

#include <cstddef>
#include <iostream>
#include <string>
#include <string_view>

#include "session.h"

namespace netsql::shell {

// The longest statement (or --watch query) the shell accepts; a longer one
// is an error naming the input and line, so an endless input cannot grow
// memory without bound.
inline constexpr size_t kMaxStatementBytes = size_t{64} << 20;

// Where a script comes from: `fd` (-1 for none; not closed here) read to
// its end, then the text `then`. `name` names the input in errors.
struct ScriptSource {
  std::string name;
  int fd = -1;
  std::string_view then;
};

// A script file, open for reading. Throws std::runtime_error
// ("cannot open PATH: reason").
class ScriptFile {
 public:
  explicit ScriptFile(const std::string& path);
  ~ScriptFile();
  ScriptFile(const ScriptFile&) = delete;
  ScriptFile& operator=(const ScriptFile&) = delete;
  ScriptSource source(std::string_view then = {}) const { return {path_, fd_, then}; }

 private:
  std::string path_;
  int fd_;
};

// Runs the script: SQL statements and, on lines of their own between
// statements, dot commands. An error is printed to `err` with the line
// where its statement starts ("Parse error near line 3: ...", as sqlite3
// prints it) and the script goes on, unless s.bail (.bail on, -bail);
// .quit and .exit end it. Returns false when any statement failed.
// `numbered`: whether errors name lines (not for the SQL argument).
bool run_script(Session& s, const ScriptSource& src, std::ostream& out, std::ostream& err, bool numbered = true);

// The whole text of `src` (for --watch, which re-runs it), within the same
// limits as a statement. Throws std::runtime_error naming the input.
std::string read_query(const ScriptSource& src);

}  // namespace netsql::shell
