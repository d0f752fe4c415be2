#include "usage.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "output.h"

#ifndef NETSQL_VERSION
#error "NETSQL_VERSION is set by CMake from project(VERSION)"
#endif

namespace netsql::shell {

namespace {

// `text` filled to `width` columns from `column` on, continuation lines
// indented by `indent`.
std::string wrap(std::string_view text, size_t indent, size_t width, size_t column) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = std::min(text.find(' ', at), text.size());
    std::string_view word = text.substr(at, end - at);
    at = end + 1;
    if (word.empty()) continue;
    if (!out.empty()) {
      if (column + 1 + word.size() > width) {
        out += "\n" + std::string(indent, ' ');
        column = indent;
      } else {
        out += ' ';
        ++column;
      }
    }
    out += word;
    column += word.size();
  }
  return out;
}

// "a|b|c" as "a, b, c", so that a long list wraps.
std::string listed(std::string_view names) {
  std::string s;
  for (char c : names) s += c == '|' ? std::string(", ") : std::string(1, c);
  return s;
}

std::string option_label(const Option& o) {
  std::string s = o.short_name.empty() ? "    " : o.short_name + (o.long_name.empty() ? "" : ", ");
  s += o.long_name;
  if (!o.value.empty()) s += " " + o.value;
  return s;
}

// `items` moved into a vector (a braced list would copy every string):
// the shell's declaration is built at every start.
template <class T, size_t N>
std::vector<T> moved(T (&&items)[N]) {
  return {std::make_move_iterator(std::begin(items)), std::make_move_iterator(std::end(items))};
}

}  // namespace

const Option* Command::find(std::string_view arg) const {
  for (const auto& o : options)
    if (o.matches(arg)) return &o;
  return nullptr;
}

std::string Command::invocation() const { return name.empty() ? "netsql" : "netsql " + name; }

const Command& shell_command() {
  static const Command c = [] {
    Command c{
        "",
        "[OPTIONS] [SQL]",
        "Runs SQL over live Linux network state: every netsql table is built in. The SQL comes from the argument, "
        "from -f FILE, or from standard input when it is not a terminal; with none, an interactive prompt starts "
        "(.help there lists its dot commands). Statements run in order; an error is reported (in a script with its line) "
        "and the run goes on, unless -bail; the exit status is 1 if any statement failed. ~/.netsqlrc (or the -init FILE) "
        "runs first, then each -cmd. Options may also be written with one dash (-format) or with =VALUE (--format=json).",
        moved<Option>({
            {"-m", "--format", "FORMAT", Arg::Format,
             "output format: " + listed(format_names()) + " (default: table on a terminal, csv otherwise)"},
            {"", "--no-header", "", Arg::None, "no column names (also -noheader)"},
            {"", "-noheader", "", Arg::None, "no column names"},
            {"", "-header", "", Arg::None, "column names (the default)"},
            {"", "-cmd", "COMMAND", Arg::Sql, "run COMMAND (SQL or a dot command) before the input; may be repeated"},
            {"", "-init", "FILE", Arg::File, "run FILE first instead of ~/.netsqlrc"},
            {"", "-bail", "", Arg::None, "stop at the first error (as .bail on)"},
            {"", "-batch", "", Arg::None, "read standard input as a script even from a terminal (no prompt)"},
            {"-f", "--file", "FILE", Arg::File, "run the SQL script in FILE (then the SQL argument, if any)"},
            {"", "--db", "FILE", Arg::File, "open (or create) FILE as the main database instead of an in-memory one"},
            {"", "--watch", "SECONDS", Arg::Text, "run the query every SECONDS (may be fractional) until Ctrl-C; not to a terminal: no banners, each row led by its watch_time"},
            {"", "--osquery-compat", "", Arg::None, "create osquery's table names (listening_ports, process_open_sockets, arp_cache, routes) as TEMP views first, as SELECT netsql_osquery_compat() does"},
            {"-h", "--help", "", Arg::None, "print this usage and exit; netsql COMMAND --help for a command"},
            {"", "--version", "", Arg::None, "print the netsql version and the version of SQLite in use, and exit"},
        }),
        Arg::Sql,
        moved<Example>({
            {"\"SELECT local_port, pid, process FROM tcp_sockets WHERE state = 'LISTEN'\"", "listening TCP ports and their programs"},
            {"-m json \"SELECT * FROM interfaces\"", "interfaces as JSON"},
            {"-f /usr/share/doc/netsql/examples/syn_flood.sql", "run a script"},
            {"--watch 2 \"SELECT state, count(*) FROM tcp_sockets GROUP BY 1\"", "a live view of TCP states"},
            {"--db history.db \"CREATE TABLE saved AS SELECT * FROM routes\"", "keep a copy of the routes"},
            {"netstat -tlnp --sql | sqlite3 -cmd '.load netsql'", "the SQL behind netstat -tlnp, run in the stock sqlite3 shell"},
        }),
    };
    // sqlite3's -csv, -json, ...: one per output format, after -header, in
    // alphabetical order.
    auto names = format_list();
    std::sort(names.begin(), names.end());
    std::vector<Option> modes;
    modes.reserve(names.size());
    for (const auto& m : names) modes.push_back({"", "-" + m, "", Arg::None, "same as --format " + m});
    c.options.insert(c.options.begin() + (c.find("-header") - c.options.data()) + 1, std::make_move_iterator(modes.begin()),
                     std::make_move_iterator(modes.end()));
    return c;
  }();
  return c;
}

std::span<const CommandEntry> command_table() {
  static constexpr CommandEntry kTable[] = {
      {"", shell_command},
      {"netstat", netstat_command},
      {"schedule", schedule_command},
      {"snapshot", snapshot_command},
      {"serve", serve_command},
  };
  return kTable;
}

const Command* find_command(std::string_view name) {
  for (const CommandEntry& e : command_table())
    if (e.name == name) return &e.command();
  return nullptr;
}

std::span<const Command* const> all_commands() {
  static const std::vector<const Command*> kAll = [] {
    std::vector<const Command*> all;
    for (const CommandEntry& e : command_table()) all.push_back(&e.command());
    return all;
  }();
  return kAll;
}

std::string help_text(const Command& c) {
  std::string s = "usage: " + c.invocation() + " " + c.synopsis + "\n";
  if (&c == &shell_command())
    for (const Command* sub : all_commands())
      if (sub != &c) s += "       " + sub->invocation() + " " + sub->synopsis + "\n";
  s += "\n" + wrap(c.summary, 0, 78, 0) + "\n\n";
  constexpr size_t kDocColumn = 24;
  for (const Option& o : c.options) {
    std::string label = "  " + option_label(o);
    s += label;
    if (label.size() + 2 > kDocColumn) s += "\n" + std::string(kDocColumn, ' ');
    else s += std::string(kDocColumn - label.size(), ' ');
    s += wrap(o.doc, kDocColumn, 78, kDocColumn) + "\n";
  }
  return s;
}

std::string_view version() { return NETSQL_VERSION; }

std::string version_text() { return std::string("netsql ") + NETSQL_VERSION + " (SQLite " + sqlite3_libversion() + ")"; }

std::span<const ExitStatus> exit_statuses() {
  static constexpr ExitStatus kAll[] = {
      {0, "success"},
      {1, "an SQL error, a file that cannot be read, or a failed snapshot; the message is on standard error"},
      {2, "a usage error: an unknown option or a missing or bad argument; the usage follows the message"},
  };
  return kAll;
}

}  // namespace netsql::shell
