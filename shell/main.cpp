// netsql: the command-line shell. One-shot queries, scripts, a REPL,
// output formats, --watch, and a netstat-compatible front end; every
// netsql table is built in (the same registration the extension uses).
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>
#include <thread>

#include "netstat.h"
#include "numbers.h"
#include "repl.h"
#include "osquery_config.h"
#include "schedule.h"
#include "script.h"
#include "serve.h"
#include "session.h"
#include "usage.h"

using namespace netsql::shell;

namespace {

int usage_error(const std::string& what) {
  std::cerr << "netsql: " << what << "\n" << help_text(shell_command());
  return 2;
}

volatile sig_atomic_t g_stop = 0;

// On a terminal: the screen redrawn under a banner. Otherwise, for
// machines: no banners, the header once, and every row led by the run's
// time (UTC, ISO 8601, milliseconds) in a column watch_time.
int watch(Session& s, const std::string& sql, double seconds) {
  struct sigaction sa {};
  sa.sa_handler = [](int) {
    g_stop = 1;
    interrupt_current();
  };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  bool tty = isatty(STDOUT_FILENO);
  int status = 0;
  while (!g_stop) {
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
    if (!ok && !g_stop) status = 1;
    if (ok && !tty) s.output.header = false;  // machines: the header once, with the first result
    std::cout.flush();
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!g_stop && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "schedule") return run_schedule_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "snapshot") return run_snapshot_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "serve") return run_serve_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "netstat") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
      NetstatOptions o = parse_netstat_options(rest);
      if (o.help) {
        std::cout << help_text(netstat_command());
        return 0;
      }
      Session s(":memory:");
      return run_netstat(s, o, std::cout);
    } catch (const UsageError& e) {
      std::cerr << "netsql netstat: " << e.what() << "\n" << help_text(netstat_command());
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "Error: " << e.what() << "\n";
      return 1;
    }
  }

  OutputOptions out;
  out.format = isatty(STDOUT_FILENO) ? Format::Table : Format::Csv;
  std::string db = ":memory:", file, sql;
  double watch_seconds = 0;
  bool osquery_compat = false;
  bool have_sql = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    // Only declared options get through (shell/usage.cpp: --help, the man
    // page and the completion list the same ones).
    if (a.size() > 1 && a[0] == '-' && !shell_command().find(a)) return usage_error("unknown option " + a);
    if (a == "-h" || a == "--help") {
      std::cout << help_text(shell_command());
      return 0;
    } else if (a == "--version") {
      std::cout << version_text() << "\n";
      return 0;
    } else if (a == "-m" || a == "--format") {
      auto v = value();
      auto f = v ? parse_format(*v) : std::nullopt;
      if (!f) return usage_error("--format takes one of " + std::string(format_names()));
      out.format = *f;
    } else if (a == "--no-header") {
      out.header = false;
    } else if (a == "-f" || a == "--file") {
      auto v = value();
      if (!v) return usage_error("-f takes a file name");
      file = *v;
    } else if (a == "--db") {
      auto v = value();
      if (!v) return usage_error("--db takes a file name");
      db = *v;
    } else if (a == "--watch") {
      auto v = value();
      auto seconds = v ? parse_real(*v, 0, kMaxIntervalS) : std::nullopt;
      if (!seconds || *seconds == 0)
        return usage_error(fmt::format("--watch takes seconds: a number greater than 0 and at most {}",
                                       static_cast<int64_t>(kMaxIntervalS)));
      watch_seconds = *seconds;
    } else if (a == "--osquery-compat") {
      osquery_compat = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else if (!have_sql) {
      sql = a;
      have_sql = true;
    } else {
      return usage_error("give the SQL as one argument (quote it)");
    }
  }
  try {
    std::optional<ScriptFile> script;
    if (!file.empty()) script.emplace(file);
    std::string then = have_sql ? "\n;" + sql : "";  // the SQL argument runs after the file's script
    Session s(db);
    s.output = out;
    if (osquery_compat) create_osquery_views(s.db());
    std::optional<ScriptSource> src;
    if (script) src = script->source(then);
    else if (have_sql) src = ScriptSource{"the command line", -1, sql};
    else if (!isatty(STDIN_FILENO)) src = ScriptSource{"standard input", STDIN_FILENO, {}};
    if (watch_seconds > 0) {
      if (!src) return usage_error("--watch needs a query");
      return watch(s, read_query(*src), watch_seconds);
    }
    if (!src) return run_repl(s);
    return run_script(s, *src, std::cout, std::cerr) ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}
