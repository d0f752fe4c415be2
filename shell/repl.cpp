#include "repl.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "dot_commands.h"
#include "libedit.h"
#include "repl_completion.h"
#include "script.h"
#include "signals.h"
#include "vtabs/docs.h"
#include "vtabs/registry.h"

namespace netsql::shell {

namespace {

Session* g_session = nullptr;  // the REPL's, for the database's table names
const Libedit* g_edit = nullptr;
std::string g_pending;          // the lines of the statement typed so far
std::vector<std::string> g_words;

char* next_word(const char*, int state) {
  static size_t at;
  if (state == 0) at = 0;
  return at < g_words.size() ? strdup(g_words[at++].c_str()) : nullptr;
}

char** complete(const char* text, int start, int) {
  *g_edit->attempted_completion_over = 1;
  std::vector<std::string> db_tables;
  try {
    Rows r = g_session->query("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
                              "UNION SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view')");
    while (r.next()) db_tables.push_back(std::get<std::string>(r.row()[0]));
  } catch (const std::exception&) {
  }
  std::string before = g_pending + (g_pending.empty() ? "" : "\n") + std::string(*g_edit->line_buffer, static_cast<size_t>(start));
  Completion c = complete_at(before, text, db_tables);
  if (c.files) return g_edit->completion_matches(text, g_edit->filename_completion_function);
  g_words = std::move(c.words);
  return g_edit->completion_matches(text, next_word);
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.netsql_history";
}

}  // namespace

int run_repl(Session& s) {
  // Ctrl-C interrupts the statement running, or at the prompt ends
  // readline's wait (EINTR) so that the line typed is dropped.
  catch_stop_signals(StopOn::Interrupt);
  std::string error;
  g_edit = libedit(error);
  if (!g_edit) {
    std::cerr << "Error: the prompt needs libedit (" << error
              << "); give the SQL as an argument, with --file, or on standard input\n";
    return 1;
  }
  g_session = &s;
  *g_edit->readline_name = "netsql";
  *g_edit->attempted_completion_function = complete;
  g_edit->using_history();
  std::string hist = history_path();
  g_edit->read_history(hist.c_str());
  std::cout << "netsql: SQL over live network state. .help for help, Ctrl-D to leave.\n";
  for (;;) {
    clear_stop();
    char* raw = g_edit->readline(g_pending.empty() ? "netsql> " : "   ...> ");
    if (!raw) {
      if (stop_requested()) {  // Ctrl-C at the prompt: drop the line, stay
        g_pending.clear();
        std::cout << "\n";
        continue;
      }
      std::cout << "\n";
      break;  // Ctrl-D
    }
    std::string line(raw);
    std::free(raw);
    if (g_pending.empty() && line.find_first_not_of(" \t") == std::string::npos) continue;
    if (g_pending.empty() && line[line.find_first_not_of(" \t")] == '.') {
      g_edit->add_history(line.c_str());
      if (dot_command(s, line.substr(line.find_first_not_of(" \t")), std::cout, std::cerr) == DotStatus::Exit || s.leaving) break;
      continue;
    }
    g_pending += (g_pending.empty() ? "" : "\n") + line;
    if (!sqlite3_complete(g_pending.c_str())) continue;
    g_edit->add_history(g_pending.c_str());
    // An interrupted query says so once, in its error ("Error: interrupted").
    s.run(g_pending);
    s.command_done();
    g_pending.clear();
  }
  g_edit->write_history(hist.c_str());
  return s.exit_code.value_or(0);
}

}  // namespace netsql::shell
