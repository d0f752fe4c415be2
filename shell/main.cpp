// netsql: the command-line shell. One-shot queries, scripts, a REPL,
// output formats, --watch, and a netstat-compatible front end; every
// netsql table is built in (the same registration the extension uses).
#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "command_line.h"
#include "numbers.h"
#include "repl.h"
#include "osquery_config.h"
#include "schedule.h"
#include "script.h"
#include "session.h"
#include "signals.h"
#include "usage.h"

using namespace netsql::shell;

namespace {

int usage_error(const std::string& what) { return usage_error(shell_command(), what); }

// On a terminal: the screen redrawn under a banner. Otherwise, for
// machines: no banners, every row led by the run's time (UTC, ISO 8601,
// milliseconds) in a column watch_time, and a header only when the columns
// change (a query: the header once; statements of different columns: each
// block under its own header, every run).
// SIGINT and SIGTERM end it after the rows written so far, with status 0.
int watch(Session& s, const std::string& sql, double seconds) {
  catch_stop_signals(StopOn::InterruptAndTerminate);
  bool tty = isatty(STDOUT_FILENO);
  if (!tty) s.output.last_header = std::make_shared<std::vector<std::string>>();
  int status = 0;
  while (!stop_requested()) {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    char when[64];
    if (tty) {
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
      std::cout << "\033[H\033[2J" << "Every " << seconds << "s: " << sql << "    " << when << "\n\n";
    } else {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
      s.output.watch_time = fmt::format("{}.{:03}Z", when, ms);
    }
    bool ok = s.run(sql);
    if (!ok && !stop_requested()) status = 1;
    std::cout.flush();
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!stop_requested() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return status;
}


// The command-line options, as declared in shell_command() (one source for
// the parser, --help, the man page and completion), parsed by
// parse_command_line with one or two dashes: sqlite3's single-dash forms
// (-cmd, -csv, -header) and GNU ones (--format=json) alike.
struct ShellArgs {
  std::optional<Format> format;
  std::optional<bool> header;
  bool bail = false, batch = false, osquery_compat = false;
  std::string db = ":memory:", file;
  std::optional<std::string> init;  // -init FILE: read instead of ~/.netsqlrc
  std::vector<std::string> commands;  // -cmd, in order
  std::optional<std::string> sql;
  double watch_seconds = 0;
};

// Parses argv into `a`; a status to exit with when parsing ends the run.
std::optional<int> parse_args(int argc, char** argv, ShellArgs& a) {
  const Command& cmd = shell_command();
  ParsedCommandLine line;
  if (auto status = parse_command_line(cmd, {argv + 1, argv + argc}, line, Dashes::OneOrTwo)) return *status;
  for (const auto& [o, v] : line.options) {
    const std::string& name = o->long_name.empty() ? o->short_name : o->long_name;
    if (name == "--version") {
      std::cout << version_text() << "\n";
      return 0;
    } else if (name == "--format") {
      a.format = parse_format(v);
      if (!a.format) return usage_error(option_needs(*o, "one of " + std::string(format_names())));
    } else if (auto f = o->value.empty() ? parse_format(name.substr(1)) : std::nullopt) {
      a.format = f;  // -csv, -box, ...
    } else if (name == "--no-header" || name == "-noheader") {
      a.header = false;
    } else if (name == "-header") {
      a.header = true;
    } else if (name == "--file") {
      a.file = v;
    } else if (name == "--db") {
      a.db = v;
    } else if (name == "-cmd") {
      a.commands.push_back(v);
    } else if (name == "-init") {
      a.init = v;
    } else if (name == "-bail") {
      a.bail = true;
    } else if (name == "-batch") {
      a.batch = true;
    } else if (name == "--osquery-compat") {
      a.osquery_compat = true;
    } else if (name == "--watch") {
      auto seconds = parse_real(v, kMinIntervalS, kMaxIntervalS);
      if (!seconds)
        return usage_error(option_needs(*o, fmt::format("seconds: a number from {} to {}", kMinIntervalS, kMaxIntervalS)));
      a.watch_seconds = *seconds;
    } else {
      return usage_error("unhandled option " + name);  // declared but not parsed: a bug
    }
  }
  if (line.operands.size() > 1) return usage_error("give the SQL as one argument (quote it)");
  if (!line.operands.empty()) a.sql = line.operands[0];
  return std::nullopt;
}

// ~/.netsqlrc (or -init FILE), as sqlite3 reads ~/.sqliterc: before the
// -cmd commands and the input, for one-shot runs too. A missing
// ~/.netsqlrc is fine; a missing -init FILE is an error.
bool run_rc(Session& s, const ShellArgs& a, bool interactive) {
  std::string path = a.init.value_or("");
  if (!a.init) {
    const char* home = std::getenv("HOME");
    if (!home) return true;
    path = std::string(home) + "/.netsqlrc";
    if (access(path.c_str(), F_OK) != 0) return true;
  }
  if (interactive) std::cerr << "-- Loading resources from " << path << "\n";
  try {
    ScriptFile f(path);
    return run_script(s, f.source(), std::cout, std::cerr);
  } catch (const std::runtime_error& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return false;
  }
}

int run_shell(int argc, char** argv) {
  // One thread uses SQLite here (Ctrl-C's sqlite3_interrupt takes no lock),
  // so SQLite takes none of its mutexes: a mutex around each of its ~470
  // allocations was 7% of a one-shot query's instructions. Before the first
  // sqlite3_open; the subcommands, whose collectors and HTTP watcher use
  // SQLite from threads of their own, keep the serialized default. An
  // extension `.load`ed here must not call SQLite from threads (README).
  sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
  ShellArgs a;
  if (auto status = parse_args(argc, argv, a)) return *status;
  // Ctrl-C interrupts the statement running ("Error: interrupted") and
  // ends the input, as in sqlite3.
  catch_stop_signals(StopOn::Interrupt);
  try {
    std::optional<ScriptFile> script;
    if (!a.file.empty()) script.emplace(a.file);
    std::string then = a.sql ? "\n;" + *a.sql : "";  // the SQL argument runs after the file's script
    Session s(a.db);
    s.output.format = isatty(STDOUT_FILENO) ? Format::Table : Format::Csv;
    if (a.osquery_compat) create_osquery_views(s.db());
    std::optional<ScriptSource> src;
    if (script) src = script->source(then);
    else if (a.sql) src = ScriptSource{"the command line", -1, *a.sql};
    else if (a.batch || !isatty(STDIN_FILENO)) src = ScriptSource{"standard input", STDIN_FILENO, {}};
    bool ok = run_rc(s, a, !src && a.watch_seconds == 0);
    // The command line wins over the rc file.
    if (a.format) s.output.format = *a.format;
    if (a.header) s.output.header = *a.header;
    if (a.bail) s.bail = true;
    if ((!ok && s.bail) || stop_requested()) return 1;
    for (const auto& c : a.commands) {
      ok = run_script(s, ScriptSource{"-cmd", -1, c}, std::cout, std::cerr, false) && ok;
      if (s.leaving) return s.exit_code.value_or(ok ? 0 : 1);
      if ((!ok && s.bail) || stop_requested()) return 1;
    }
    if (a.watch_seconds > 0) {
      if (!src) return usage_error("--watch needs a query");
      return watch(s, read_query(*src), a.watch_seconds);
    }
    if (!src) return run_repl(s);
    ok = run_script(s, *src, std::cout, std::cerr, !a.sql || script) && ok;
    return s.exit_code.value_or(ok ? 0 : 1);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1)
    if (const Command* c = find_command(argv[1]); c && c->run) return c->run({argv + 2, argv + argc});
  return run_shell(argc, argv);
}
