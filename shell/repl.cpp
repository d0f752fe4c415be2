#include "repl.h"

#include <editline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "dot_commands.h"
#include "script.h"
#include "vtabs/docs.h"
#include "vtabs/registry.h"

namespace netsql::shell {

namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  g_interrupted = true;
  interrupt_current();
}

std::vector<std::string> completion_words() {
  std::vector<std::string> w = {"SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "JOIN", "COUNT(*)"};
  for (const auto& c : dot_commands()) w.emplace_back(c.name);
  for (const auto* def : vt::all_tables()) {
    w.emplace_back(def->name);
    for (size_t i = 0; i < def->column_count(); ++i) w.emplace_back(def->column(static_cast<int>(i)).name);
  }
  // Many tables share column names (recv_q, ...): each word once.
  std::sort(w.begin(), w.end());
  w.erase(std::unique(w.begin(), w.end()), w.end());
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
      if (dot_command(s, line.substr(line.find_first_not_of(" \t")), std::cout, std::cerr) == DotStatus::Exit || s.leaving) break;
      continue;
    }
    buffer += (buffer.empty() ? "" : "\n") + line;
    if (!sqlite3_complete(buffer.c_str())) continue;
    add_history(buffer.c_str());
    // An interrupted query says so once, in its error ("Error: interrupted").
    s.run(buffer);
    s.command_done();
    buffer.clear();
  }
  write_history(hist.c_str());
  return s.exit_code.value_or(0);
}

}  // namespace netsql::shell
