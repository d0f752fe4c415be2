#include "repl.h"

#include <editline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "script.h"
#include "vtabs/docs.h"
#include "vtabs/registry.h"

namespace netsql::shell {

namespace {

const char* const kHelp =
    ".tables              list the netsql tables, then the database's own\n"
    ".schema [TABLE]      columns of every table (or one), with what each holds\n"
    ".mode FORMAT         output format: table|csv|tsv|json|jsonl|line|markdown\n"
    ".headers on|off      column headers in table, csv and tsv output\n"
    ".timer on|off        time each statement\n"
    ".read FILE           run the SQL in FILE\n"
    ".help                this text\n"
    ".quit                leave (or Ctrl-D); Ctrl-C interrupts a running query\n";

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  g_interrupted = true;
  interrupt_current();
}

std::vector<std::string> completion_words() {
  std::vector<std::string> w = {"SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "JOIN", "COUNT(*)",
                                ".tables", ".schema", ".mode", ".headers", ".timer", ".read", ".help", ".quit"};
  for (const auto* def : vt::all_tables()) {
    w.emplace_back(def->name);
    for (size_t i = 0; i < def->column_count(); ++i) w.emplace_back(def->column(static_cast<int>(i)).name);
  }
  return w;
}

char* complete_word(const char* text, int state) {
  static std::vector<std::string> words = completion_words();
  static size_t at;
  if (state == 0) at = 0;
  size_t n = std::strlen(text);
  while (at < words.size()) {
    const std::string& w = words[at++];
    if (strncasecmp(w.c_str(), text, n) == 0) return strdup(w.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int, int) {
  rl_attempted_completion_over = 1;
  return rl_completion_matches(text, complete_word);
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.netsql_history";
}

}  // namespace

const char* dot_commands_help() { return kHelp; }

bool dot_command(Session& s, const std::string& line, std::ostream& out, std::ostream& err, bool& ok) {
  std::istringstream in(line);
  std::string cmd, arg;
  in >> cmd >> arg;
  ok = true;
  if (cmd == ".quit" || cmd == ".exit") return false;
  if (cmd == ".help") {
    out << kHelp << "\nTables:\n";
    for (const auto* def : vt::all_tables()) out << "  " << def->name << ": " << def->doc << "\n";
  } else if (cmd == ".tables") {
    for (const auto* def : vt::all_tables()) out << def->name << "\n";
    // Then the database's own tables (history tables with --db, temp tables).
    try {
      Rows r = s.query("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
                       "UNION ALL SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view') ORDER BY 1");
      while (r.next()) out << std::get<std::string>(r.row()[0]) << "\n";
    } catch (const std::exception& e) {
      err << "Error: " << e.what() << "\n";
      ok = false;
    }
  } else if (cmd == ".schema") {
    bool found = false;
    for (const auto* def : vt::all_tables())
      if (arg.empty() || def->name == arg) {
        out << vt::table_text(*def);
        found = true;
      }
    if (!found) {
      err << "Error: no such table: " << arg << "\n";
      ok = false;
    }
  } else if (cmd == ".mode") {
    if (auto f = parse_format(arg)) {
      s.output.format = *f;
    } else {
      err << "Error: unknown mode '" << arg << "' (" << format_names() << ")\n";
      ok = false;
    }
  } else if (cmd == ".headers" || cmd == ".timer") {
    if (arg != "on" && arg != "off") {
      err << "Error: " << cmd << " takes on or off\n";
      ok = false;
    } else {
      (cmd == ".timer" ? s.timer : s.output.header) = arg == "on";
    }
  } else if (cmd == ".read") {
    try {
      ScriptFile f(arg);
      ok = run_script(s, f.source(), out, err);
    } catch (const std::runtime_error& e) {
      err << "Error: " << e.what() << "\n";
      ok = false;
    }
  } else {
    err << "Error: unknown command " << cmd << " (try .help)\n";
    ok = false;
  }
  return true;
}

int run_repl(Session& s) {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  rl_readline_name = "netsql";
  rl_attempted_completion_function = complete;
  using_history();
  std::string hist = history_path();
  read_history(hist.c_str());
  std::cout << "netsql: SQL over live network state. .help for help, Ctrl-D to leave.\n";
  std::string buffer;
  for (;;) {
    g_interrupted = false;
    char* raw = readline(buffer.empty() ? "netsql> " : "   ...> ");
    if (!raw) {
      if (g_interrupted) {  // Ctrl-C at the prompt: drop the line, stay
        buffer.clear();
        std::cout << "\n";
        continue;
      }
      std::cout << "\n";
      break;  // Ctrl-D
    }
    std::string line(raw);
    std::free(raw);
    if (buffer.empty() && line.find_first_not_of(" \t") == std::string::npos) continue;
    if (buffer.empty() && line[line.find_first_not_of(" \t")] == '.') {
      add_history(line.c_str());
      bool ok;
      if (!dot_command(s, line.substr(line.find_first_not_of(" \t")), std::cout, std::cerr, ok)) break;
      continue;
    }
    buffer += (buffer.empty() ? "" : "\n") + line;
    if (!sqlite3_complete(buffer.c_str())) continue;
    add_history(buffer.c_str());
    s.run(buffer);
    if (g_interrupted) std::cerr << "(interrupted)\n";
    buffer.clear();
  }
  write_history(hist.c_str());
  return 0;
}

}  // namespace netsql::shell
