#include "dot_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "csv_import.h"
#include "numbers.h"
#include "output.h"
#include "script.h"
#include "vtabs/docs.h"
#include "vtabs/registry.h"

namespace netsql::shell {

namespace {

using Args = std::vector<std::string>;

DotStatus fail(std::ostream& err, const std::string& what) {
  err << "Error: " << what << "\n";
  return DotStatus::Error;
}

// "on"/"off" (also yes/no, true/false, 1/0, as sqlite3 takes them).
std::optional<bool> boolean(const std::string& word) {
  if (word == "on" || word == "yes" || word == "true" || word == "1") return true;
  if (word == "off" || word == "no" || word == "false" || word == "0") return false;
  return std::nullopt;
}

// "Error: usage: .read FILE": the command's synopsis from kCommands.
DotStatus usage(std::ostream& err, std::string_view name);

DotStatus set_flag(bool& flag, std::string_view name, const Args& a, std::ostream& err) {
  auto v = a.size() == 1 ? boolean(a[0]) : std::nullopt;
  if (!v) return usage(err, name);
  flag = *v;
  return DotStatus::Ok;
}

// As sqlite3's .tables PATTERN: the names LIKE the pattern (case aside).
DotStatus list_tables(Session& s, const Args& a, std::ostream& out, std::ostream& err) {
  auto listed = [&](const std::string& name) { return a.empty() || sqlite3_strlike(a[0].c_str(), name.c_str(), 0) == 0; };
  for (const auto* def : vt::all_tables())
    if (listed(std::string(def->name))) out << def->name << "\n";
  // Then the database's own tables (history tables with --db, temp tables).
  try {
    Rows r = s.query("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
                     "UNION ALL SELECT name FROM sqlite_temp_schema WHERE type IN ('table', 'view') ORDER BY 1");
    while (r.next())
      if (const auto& name = std::get<std::string>(r.row()[0]); listed(name)) out << name << "\n";
  } catch (const std::exception& e) {
    return fail(err, e.what());
  }
  return DotStatus::Ok;
}

DotStatus schema(Session&, const Args& a, std::ostream& out, std::ostream& err) {
  bool found = false;
  for (const auto* def : vt::all_tables())
    if (a.empty() || def->name == a[0]) {
      out << vt::table_text(*def);
      found = true;
    }
  return found ? DotStatus::Ok : fail(err, "no such table: " + a[0]);
}

DotStatus mode(Session& s, const Args& a, std::ostream&, std::ostream& err) {
  auto f = a.empty() ? std::nullopt : parse_format(a[0]);
  if (!f || a.size() > (*f == Format::Insert ? 2u : 1u)) return usage(err, ".mode");
  s.output.format = *f;
  if (*f == Format::Insert) s.output.insert_table = a.size() == 2 ? a[1] : "table";
  return DotStatus::Ok;
}

DotStatus headers(Session& s, const Args& a, std::ostream&, std::ostream& err) { return set_flag(s.output.header, ".headers", a, err); }
DotStatus timer(Session& s, const Args& a, std::ostream&, std::ostream& err) { return set_flag(s.timer, ".timer", a, err); }
DotStatus bail(Session& s, const Args& a, std::ostream&, std::ostream& err) { return set_flag(s.bail, ".bail", a, err); }
DotStatus changes(Session& s, const Args& a, std::ostream&, std::ostream& err) { return set_flag(s.changes, ".changes", a, err); }
DotStatus eqp(Session& s, const Args& a, std::ostream&, std::ostream& err) { return set_flag(s.eqp, ".eqp", a, err); }

DotStatus read(Session& s, const Args& a, std::ostream& out, std::ostream& err) {
  if (s.read_depth >= Session::kMaxReadDepth)
    return fail(err, fmt::format(".read: input nesting limit ({}) reached", Session::kMaxReadDepth));
  struct Depth {
    int& d;
    explicit Depth(int& n) : d(n) { ++d; }
    ~Depth() { --d; }
  } depth(s.read_depth);
  try {
    ScriptFile f(a[0]);
    return run_script(s, f.source(), out, err) ? DotStatus::Ok : DotStatus::Error;
  } catch (const std::runtime_error& e) {
    return fail(err, e.what());
  }
}

DotStatus output(Session& s, const Args& a, std::ostream&, std::ostream& err, bool once) {
  if (a.empty() || a[0] == "stdout") {
    s.end_redirect();
    return DotStatus::Ok;
  }
  try {
    s.redirect(a[0], once);
  } catch (const std::runtime_error& e) {
    return fail(err, e.what());
  }
  return DotStatus::Ok;
}

DotStatus open(Session& s, const Args& a, std::ostream&, std::ostream& err) {
  try {
    s.open(a[0]);
  } catch (const std::runtime_error& e) {
    return fail(err, e.what());
  }
  return DotStatus::Ok;
}

DotStatus load(Session& s, const Args& a, std::ostream&, std::ostream& err) {
  sqlite3_db_config(s.db(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, nullptr);
  char* msg = nullptr;
  int rc = sqlite3_load_extension(s.db(), a[0].c_str(), a.size() == 2 ? a[1].c_str() : nullptr, &msg);
  sqlite3_db_config(s.db(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  std::string what = msg ? msg : "cannot load " + a[0];
  sqlite3_free(msg);
  return rc == SQLITE_OK ? DotStatus::Ok : fail(err, what);
}

DotStatus import(Session& s, const Args& a, std::ostream&, std::ostream& err) {
  try {
    import_csv(s, a[0], a[1], err);
  } catch (const std::runtime_error& e) {
    return fail(err, e.what());
  }
  return DotStatus::Ok;
}

// As sqlite3's .dump: the schema of the main database's tables (TABLE: the
// tables LIKE it) with their rows as INSERTs, then (for the whole
// database) its indexes, triggers and views, in one transaction.
DotStatus dump(Session& s, const Args& a, std::ostream& out, std::ostream& err) {
  std::string like = a.empty() ? "%" : a[0];
  out << "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n";
  try {
    Rows tables = s.query(fmt::format(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql NOT NULL AND name NOT LIKE 'sqlite_%' "
        "AND name LIKE '{}' ORDER BY rowid",
        [&] {
          std::string q;
          for (char c : like) q += c == '\'' ? "''" : std::string(1, c);
          return q;
        }()));
    OutputOptions o;
    o.format = Format::Insert;
    o.header = false;
    while (tables.next()) {
      std::string name = std::get<std::string>(tables.row()[0]), sql = std::get<std::string>(tables.row()[1]);
      // As sqlite3 does, for a name in quotes only.
      if (sql.rfind("CREATE TABLE ", 0) == 0 && sql.size() > 13 && (sql[13] == '"' || sql[13] == '\''))
        sql = "CREATE TABLE IF NOT EXISTS " + sql.substr(13);
      out << sql << ";\n";
      o.insert_table = name;
      std::string q = "\"";
      for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      Rows rows = s.query("SELECT * FROM " + q + "\"");
      ResultWriter w(out, rows.columns(), o);
      while (rows.next()) w.row(rows.row());
      w.end(true);
    }
    if (a.empty()) {
      Rows rest = s.query("SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger', 'view') AND sql NOT NULL ORDER BY rowid");
      while (rest.next()) out << std::get<std::string>(rest.row()[0]) << ";\n";
    }
  } catch (const std::exception& e) {
    out << "COMMIT;\n";
    return fail(err, e.what());
  }
  out << "COMMIT;\n";
  return DotStatus::Ok;
}

DotStatus width(Session& s, const Args& a, std::ostream&, std::ostream& err) {
  std::vector<int> w;
  for (const auto& word : a) {
    auto n = parse_int(word, -1000, 1000);
    if (!n) return fail(err, "\"" + word + "\" is not a width: .width takes whole numbers from -1000 to 1000");
    w.push_back(static_cast<int>(*n));
  }
  s.output.widths = std::move(w);
  return DotStatus::Ok;
}

DotStatus exit(Session& s, const Args& a, std::ostream&, std::ostream& err) {
  if (a.size() == 1) {
    auto code = parse_int(a[0], 0, 255);
    if (!code) return fail(err, "\"" + a[0] + "\" is not an exit code: .exit takes a whole number from 0 to 255");
    s.exit_code = static_cast<int>(*code);
  } else {
    s.exit_code = 0;
  }
  return DotStatus::Exit;
}

DotStatus show(Session& s, const Args&, std::ostream& out, std::ostream&) {
  std::string mode = "table";
  for (const std::string& name : format_list())
    if (parse_format(name) == s.output.format) mode = name;
  std::string widths;
  for (int w : s.output.widths) widths += std::to_string(w) + " ";
  auto onoff = [](bool b) { return b ? "on" : "off"; };
  out << fmt::format("{:>12}: {}\n", "bail", onoff(s.bail)) << fmt::format("{:>12}: {}\n", "changes", onoff(s.changes))
      << fmt::format("{:>12}: {}\n", "eqp", onoff(s.eqp)) << fmt::format("{:>12}: {}\n", "headers", onoff(s.output.header))
      << fmt::format("{:>12}: {}{}\n", "mode", mode, s.output.format == Format::Insert ? " " + s.output.insert_table : "")
      << fmt::format("{:>12}: {}\n", "output", s.output_name()) << fmt::format("{:>12}: {}\n", "timer", onoff(s.timer))
      << fmt::format("{:>12}: {}\n", "width", widths) << fmt::format("{:>12}: {}\n", "filename", s.filename());
  return DotStatus::Ok;
}

DotStatus help(Session&, const Args&, std::ostream& out, std::ostream&) {
  out << dot_commands_help() << "\nTables:\n";
  for (const auto* def : vt::all_tables()) out << "  " << def->name << ": " << def->doc << "\n";
  return DotStatus::Ok;
}

DotStatus quit(Session&, const Args&, std::ostream&, std::ostream&) { return DotStatus::Exit; }

const DotCommand kCommands[] = {
    {".bail", "on|off", "stop a script at its first error (default: off, go on)", DotArg::OnOff, bail},
    {".changes", "on|off", "show how many rows each statement changed", DotArg::OnOff, changes},
    {".dump", "[TABLE]", "the main database (or its tables LIKE TABLE) as SQL", DotArg::Table, dump},
    {".eqp", "on|off", "show the query plan (with the kernel filters) before each statement", DotArg::OnOff, eqp},
    {".exit", "[CODE]", "leave with exit status CODE (default 0)", DotArg::None, exit},
    {".headers", "on|off", "column headers in the output", DotArg::OnOff, headers},
    {".help", "", "this text", DotArg::None, help},
    {".import", "FILE TABLE", "insert the CSV records of FILE into TABLE (created from the first record if absent)",
     DotArg::File, import},
    {".load", "PATH [ENTRY]", "load an SQLite extension", DotArg::File, load},
    {".mode", "MODE [TABLE]", "output format (insert: into TABLE)", DotArg::Mode, mode},
    {".once", "FILE", "write the next command's output to FILE", DotArg::File,
     [](Session& s, const Args& a, std::ostream& o, std::ostream& e) { return output(s, a, o, e, true); }},
    {".open", "FILE", "close the database and open FILE (e.g. a history database) instead", DotArg::File, open},
    {".output", "[FILE]", "write output to FILE (no FILE: back to standard output)", DotArg::File,
     [](Session& s, const Args& a, std::ostream& o, std::ostream& e) { return output(s, a, o, e, false); }},
    {".quit", "", "leave (or Ctrl-D); Ctrl-C interrupts a running query", DotArg::None, quit},
    {".read", "FILE", "run the SQL in FILE", DotArg::File, read},
    {".schema", "[TABLE]", "columns of every table (or one), with what each holds", DotArg::Table, schema},
    {".show", "", "the current settings", DotArg::None, show},
    {".tables", "[PATTERN]", "list the netsql tables, then the database's own (those LIKE PATTERN)", DotArg::None,
     list_tables},
    {".timer", "on|off", "time each statement", DotArg::OnOff, timer},
    {".width", "N...", "column widths for box and column (negative: right aligned)", DotArg::None, width},
};

// How many words a synopsis takes: "FILE TABLE" two, "[FILE]" up to one,
// "N..." any number.
std::pair<size_t, size_t> arity(std::string_view synopsis) {
  size_t least = 0, most = 0;
  for (const auto& word : dot_words(synopsis)) {
    if (word.ends_with("...")) return {least, SIZE_MAX};
    ++most;
    if (word[0] != '[') ++least;
  }
  return {least, most};
}

const DotCommand* find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

DotStatus usage(std::ostream& err, std::string_view name) {
  const DotCommand* c = find_command(name);
  std::string text = fmt::format("usage: {} {}", name, c ? c->args : "");
  while (text.back() == ' ') text.pop_back();
  if (name == ".mode") text += " (MODE: " + std::string(format_names()) + ")";
  return fail(err, text);
}

}  // namespace

std::span<const DotCommand> dot_commands() { return kCommands; }

std::string dot_commands_help() {
  std::string s;
  for (const auto& c : kCommands) {
    std::string head = fmt::format("{} {}", c.name, c.args);
    s += fmt::format("{:<21}{}\n", head, c.help);
  }
  return s;
}

std::vector<std::string> dot_words(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n')) ++i;
    if (i >= line.size()) break;
    std::string w;
    if (line[i] == '"' || line[i] == '\'') {
      char q = line[i++];
      while (i < line.size() && line[i] != q) w += line[i++];
      ++i;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') w += line[i++];
    }
    words.push_back(std::move(w));
  }
  return words;
}

DotStatus dot_command(Session& s, const std::string& line, std::ostream& out, std::ostream& err) {
  std::vector<std::string> words = dot_words(line);
  if (words.empty()) return DotStatus::Ok;
  std::string name = words[0];
  words.erase(words.begin());
  const DotCommand* it = find_command(name);
  if (!it) return fail(err, "unknown command " + name + " (try .help)");
  // The synopsis says how many words each takes (as sqlite3, too many or
  // too few get the usage).
  auto [least, most] = arity(it->args);
  DotStatus st = words.size() < least || words.size() > most ? usage(err, name) : it->run(s, words, s.out(out), err);
  if (it->name != ".once") s.command_done();
  if (st == DotStatus::Exit) s.leaving = true;
  return st;
}

}  // namespace netsql::shell
