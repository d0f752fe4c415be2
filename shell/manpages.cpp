#include "manpages.h"

#include <fmt/format.h>

#include "dot_commands.h"
#include "usage.h"
#include "vtabs/registry.h"

namespace netsql::shell {

namespace {

std::string header(std::string_view name, int section, std::string_view manual) {
  return fmt::format(".TH {} {} \"\" \"netsql {}\" \"{}\"\n", name, section, version(), manual);
}

std::string bold(std::string_view s) { return "\\fB" + roff(s) + "\\fR"; }
std::string italic(std::string_view s) { return "\\fI" + roff(s) + "\\fR"; }

std::string option_tag(const Option& o) {
  std::string s;
  if (!o.short_name.empty()) s += bold(o.short_name);
  if (!o.short_name.empty() && !o.long_name.empty()) s += ", ";
  if (!o.long_name.empty()) s += bold(o.long_name);
  if (!o.value.empty()) s += " " + italic(o.value);
  return s;
}

std::string options(const Command& c) {
  std::string s;
  for (const Option& o : c.options) s += ".TP\n" + option_tag(o) + "\n" + roff(o.doc) + "\n";
  return s;
}

// A command line shown as typed, indented and unfilled.
std::string example(std::string_view command) { return ".PP\n.RS 4\n.nf\n" + roff(command) + "\n.fi\n.RE\n"; }

}  // namespace

std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  return out;
}

std::string netsql_man_page() {
  const Command& shell = shell_command();
  std::string s = header("NETSQL", 1, "User Commands");
  s += ".SH NAME\nnetsql \\- SQL over live Linux network state\n.SH SYNOPSIS\n";
  for (const Command* c : all_commands()) s += ".B " + roff(c->invocation()) + "\n" + roff(c->synopsis) + "\n.br\n";
  s += ".SH DESCRIPTION\n" + roff(shell.summary) + "\n.PP\n" +
       roff("The tables (sockets, routes, interfaces, addresses, neighbours, processes, protocol counters, "
            "network namespaces, and the services and hosts files) are described in") +
       "\n.BR netsql-tables (7).\n" +
       roff("They read the kernel directly (netlink sock_diag and rtnetlink; /proc only where the kernel offers "
            "nothing better), and constraints such as state = 'LISTEN' are pushed down into the kernel's own "
            "filters. The same tables are a loadable SQLite extension: .load netsql in the stock sqlite3 shell, "
            "or load_extension(\"netsql\") from any program that can load SQLite extensions.") +
       "\n.SH OPTIONS\n" + options(shell);
  s += ".SH COMMANDS\n";
  for (const Command* c : all_commands()) {
    if (c == &shell) continue;
    s += ".SS \"" + roff(c->invocation() + " " + c->synopsis) + "\"\n" + roff(c->summary) + "\n" + options(*c);
  }
  s += ".SH INTERACTIVE USE\n" +
       roff("With no SQL and a terminal on standard input, netsql prompts for SQL (libedit line editing; history in "
            "~/.netsql_history; Tab completes table and column names). A statement runs once it ends with ';'. "
            "Ctrl-C interrupts the running query, Ctrl-D leaves. Dot commands, on lines of their own (also in "
            "scripts):") +
       "\n.PP\n.RS 4\n.nf\n" + roff(dot_commands_help()) + ".fi\n.RE\n";
  s += ".SH EXIT STATUS\n";
  for (const ExitStatus& e : exit_statuses()) s += fmt::format(".TP\n.B {}\n{}\n", e.code, roff(e.meaning));
  s += ".SH FILES\n";
  for (auto [file, what] : {std::pair{"~/.netsql_history", "the interactive prompt's history"},
                            std::pair{"/etc/services", "port names (service_name(), netstat without -n)"},
                            std::pair{"/etc/hosts", "host names (host_name(), netstat without -n); never a DNS lookup"},
                            std::pair{"/usr/share/doc/netsql/examples/", "one SQL file per question, and a schedule"}})
    s += ".TP\n" + italic(file) + "\n" + roff(what) + "\n";
  s += ".SH EXAMPLES\n";
  for (const Command* c : all_commands())
    for (const Example& e : c->examples) s += ".PP\n" + roff(e.doc) + ":\n" + example("netsql " + e.command);
  s += ".SH SEE ALSO\n.BR netsql-tables (7),\n.BR sqlite3 (1),\n.BR netstat (8),\n.BR ss (8),\n.BR ip (8)\n";
  return s;
}

std::string netsql_tables_man_page() {
  std::string s = header("NETSQL-TABLES", 7, "netsql");
  s += ".SH NAME\nnetsql-tables \\- the tables and SQL functions of the netsql SQLite extension\n.SH SYNOPSIS\n" +
       example("$ sqlite3\nsqlite> .load netsql\nsqlite> SELECT state, count(*) FROM tcp_sockets GROUP BY state;") +
       example(">>> conn.enable_load_extension(True)\n>>> conn.load_extension(\"netsql\")");
  s += ".SH DESCRIPTION\n" +
       roff("netsql is a loadable SQLite extension: its tables read live Linux network state. They are eponymous "
            "virtual tables: they exist as soon as the extension is loaded, need no CREATE VIRTUAL TABLE, and are "
            "read-only. The installed extension (netsql.so in the library directory) loads by its bare name; "
            "SQLite derives the entry point sqlite3_netsql_init from the file name. The netsql shell, netsql(1), "
            "has them built in.") +
       "\n.PP\n" +
       roff("The tables can be read by top-level SQL and by TEMP views and triggers only, not by views or triggers "
            "stored in a database file (a database opened from elsewhere cannot make a process read the kernel "
            "behind its back): SQLite refuses those with \"unsafe use of virtual table\". Use CREATE TEMP VIEW.") +
       "\n.PP\n" +
       roff("A table marked per namespace has the hidden column netns: give it as a table argument, "
            "tcp_sockets('blue'), or as a constraint, netns = 'blue', to read another network namespace (a name "
            "under /run/netns, a path to a namespace file, or a pid).") +
       "\n.SH TABLES\n";
  for (const vt::TableDef* def : vt::all_tables()) {
    s += ".SS " + roff(def->name) + "\n" + roff(def->doc) + "\n";
    for (size_t i = 0; i < def->column_count(); ++i) {
      const vt::Column& c = def->column(static_cast<int>(i));
      std::string_view type = c.type == vt::Type::Integer ? "INTEGER" : c.type == vt::Type::Real ? "REAL" : "TEXT";
      s += ".TP\n" + bold(c.name) + " " + italic(type) + (c.hidden ? " (hidden)" : "") + "\n" + roff(c.doc) + "\n";
    }
  }
  s += ".SH FUNCTIONS\n";
  for (const vt::FunctionDoc& f : vt::all_functions()) s += ".TP\n" + bold(f.signature) + "\n" + roff(f.doc) + "\n";
  s += ".SH SEE ALSO\n.BR netsql (1),\n.BR sqlite3 (1)\n";
  return s;
}

}  // namespace netsql::shell
