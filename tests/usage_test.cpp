// Every command's --help, checked against the option tables the parsers
// themselves read (shell/usage.h, netstat_flags()): --help exits 0 and
// prints the generated text naming every option; every declared option is
// accepted; anything undeclared is refused.
#include <sys/wait.h>
#include <unistd.h>


#include "netstat.h"
#include "output.h"
#include "support.h"
#include "usage.h"

namespace netsql::test {
namespace {

using shell::Arg;
using shell::Command;
using shell::Option;


// `name` as a word of its own in `text` (--all, not --all-x or x--all).
bool mentions(const std::string& text, const std::string& name) {
  for (size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    char before = at ? text[at - 1] : ' ', after = at + name.size() < text.size() ? text[at + name.size()] : '\n';
    if (before == ' ' && (after == ' ' || after == ',' || after == '\n')) return true;
  }
  return false;
}

std::string prefix(const Command& c) { return c.name.empty() ? "" : c.name + " "; }

// A value the option takes that passes its parser's checks.
std::string value_for(const Option& o) {
  if (o.long_name == "--protocol") return "inet";  // netstat -A: an address family
  return o.kind == Arg::Format ? "csv" : o.kind == Arg::File ? "/dev/null" : "1";
}

TEST(Usage, EveryCommandAnswersHelpWithItsGeneratedTextNamingEveryOption) {
  ASSERT_EQ(shell::all_commands().size(), 5u);  // the shell, netstat, schedule, snapshot, serve
  for (const Command* c : shell::all_commands()) {
    for (const char* help : {"--help", "-h"}) {
      Ran r = netsql(prefix(*c) + help);
      EXPECT_EQ(r.status, 0) << c->invocation() << " " << help << "\n" << r.err;
      EXPECT_EQ(r.out, shell::help_text(*c)) << c->invocation();
      EXPECT_EQ(r.err, "");
    }
    std::string help = shell::help_text(*c);
    EXPECT_NE(help.find("usage: " + c->invocation() + " "), std::string::npos);
    for (const Option& o : c->options) {
      for (const std::string& name : {o.short_name, o.long_name}) {
        if (!name.empty()) {
          EXPECT_TRUE(mentions(help, name)) << name;
        }
      }
      if (!o.value.empty()) {
        EXPECT_NE(help.find(o.long_name + " " + o.value), std::string::npos) << o.long_name;
      }
      EXPECT_NE(help.find(o.doc.substr(0, 20)), std::string::npos) << o.doc;
    }
  }
  // The shell's usage lists every command's usage line.
  std::string top = shell::help_text(shell::shell_command());
  for (const Command* c : shell::all_commands()) EXPECT_NE(top.find(c->invocation() + " " + c->synopsis), std::string::npos);
}

// main() dispatches argv[1] by the table's names without building the other
// commands: each name must be the name its command declares, and every
// command is found by it (the shell by "", which it never runs: no `run`).
TEST(Usage, TheDispatchTableNamesEachCommandAsItsDeclarationDoes) {
  ASSERT_EQ(shell::command_table().size(), shell::all_commands().size());
  for (size_t i = 0; i < shell::command_table().size(); ++i) {
    const shell::CommandEntry& e = shell::command_table()[i];
    const Command& c = e.command();
    EXPECT_EQ(e.name, c.name);
    EXPECT_EQ(shell::find_command(e.name), &c) << c.invocation();
    EXPECT_EQ(shell::all_commands()[i], &c) << c.invocation();
    EXPECT_EQ(c.run == nullptr, c.name.empty()) << c.invocation();  // only the shell has no run
  }
  EXPECT_EQ(shell::find_command("SELECT 1"), nullptr);
  EXPECT_EQ(shell::find_command("netstat")->name, "netstat");
}

TEST(Usage, EveryDeclaredOptionIsAcceptedAndNothingElse) {
  for (const Command* c : shell::all_commands()) {
    for (const Option& o : c->options) {
      for (const std::string& name : {o.short_name, o.long_name}) {
        if (name.empty()) continue;
        // The option, then --help: exit 0 shows the parser took the option.
        std::string args = prefix(*c) + name + (o.value.empty() ? "" : " " + value_for(o)) + " --help";
        Ran r = netsql(args);
        EXPECT_EQ(r.status, 0) << "netsql " << args << "\n" << r.err;
        EXPECT_EQ(r.err.find("unknown option"), std::string::npos) << r.err;
      }
    }
    Ran r = netsql(prefix(*c) + "--no-such-option");
    EXPECT_EQ(r.status, 2) << c->invocation();
    EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("usage: " + c->invocation()), std::string::npos) << r.err;
  }
}

TEST(Usage, NetstatOptionsAreItsFlagTable) {
  // netsql netstat --help lists exactly the parser's flag table, and short
  // flags combine as in netstat.
  const Command& c = shell::netstat_command();
  ASSERT_EQ(c.options.size(), shell::netstat_flags().size() + 1);  // and -A AF
  std::string letters;
  for (const auto& f : shell::netstat_flags()) {
    EXPECT_TRUE((f.letter && c.find(std::string{'-', f.letter})) || (f.name && c.find(f.name))) << f.doc;
    if (f.letter && std::string_view("hisMV").find(f.letter) == std::string_view::npos) letters += f.letter;
  }
  // -r, -i, -s and -M exclude each other (as in netstat): every other letter with -r.
  shell::NetstatOptions all = shell::parse_netstat_options({"-" + letters});
  for (const auto& f : shell::netstat_flags())
    EXPECT_EQ(all.*(f.field), f.letter && std::string_view("hisMV").find(f.letter) == std::string_view::npos) << f.doc;
  EXPECT_THROW(shell::parse_netstat_options({"-ri"}), shell::UsageError);
  EXPECT_THROW(shell::parse_netstat_options({"-rM"}), shell::UsageError);
  EXPECT_THROW(shell::parse_netstat_options({"-tz"}), shell::UsageError);
  // The shared parser (shell/command_line.h) reads them: combined letters,
  // a value joined to its letter or apart, long options shortened, and its
  // wording for what it refuses.
  shell::NetstatOptions o = shell::parse_netstat_options({"-tulpnAinet6", "--wi", "-A", "unix"});
  EXPECT_TRUE(o.tcp && o.udp && o.listening && o.program && o.numeric && o.v6 && o.unix_ && o.wide && !o.v4);
  EXPECT_EQ(o.families, (std::vector<std::string>{"inet6", "unix"}));
  auto refused = [](const std::vector<std::string>& args) -> std::string {
    try {
      shell::parse_netstat_options(args);
    } catch (const shell::UsageError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(refused({"-tz"}), "unknown option '-z'");
  EXPECT_EQ(refused({"-tA"}), "option '-A' needs a value");
  EXPECT_EQ(refused({"--nu"}), "ambiguous option '--nu': --numeric, --numeric-hosts, --numeric-ports, --numeric-users");
  EXPECT_EQ(refused({"--tcp=1"}), "option '--tcp' takes no value");
  EXPECT_EQ(refused({"-t", "x"}), "unexpected argument 'x'");
  EXPECT_EQ(refused({"-ri"}), "-r, -i, -s and -M exclude each other");
  EXPECT_TRUE(shell::parse_netstat_options({"-riV"}).version);  // -V ends the parse, as in netstat
  EXPECT_THROW(shell::parse_netstat_options({"-A", "all"}), shell::NetstatRefusal);
}

// sqlite3's one-dash mode options, one per output mode, from the mode list
// (-jsonl, -tsv, -insert as well as -csv): each gives what --format gives.
TEST(Usage, EveryModeIsAOneDashOption) {
  const std::string sql = " \"SELECT 1 AS a, 'x' AS b\"";
  for (const std::string& mode : shell::format_list()) {
    EXPECT_NE(shell::shell_command().find("-" + mode), nullptr) << mode;
    Ran dash = netsql("-" + mode + sql), format = netsql("--format " + mode + sql);
    EXPECT_EQ(dash.status, 0) << mode << ": " << dash.err;
    EXPECT_EQ(dash.out, format.out) << mode;
    EXPECT_NE(dash.out, "") << mode;
  }
  EXPECT_EQ(netsql("-jsonl" + sql).out, "{\"a\":1,\"b\":\"x\"}\n");
}

TEST(Usage, VersionNamesThisBuildAndTheSqliteInUse) {
  Ran r = netsql("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "netsql " + std::string(shell::version()) + " (SQLite " + sqlite3_libversion() + ")\n");
  EXPECT_NE(shell::version().find('.'), std::string_view::npos);
}

TEST(Usage, SubcommandUsageErrorsExit2) {
  EXPECT_EQ(netsql("schedule").status, 2);
  EXPECT_EQ(netsql("schedule a.json b.json").status, 2);
  Ran r = netsql("snapshot --db /dev/null --name x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("missing the SQL"), std::string::npos) << r.err;
  r = netsql("snapshot --db /tmp/x.db --name x --max-rows 0 \"SELECT 1\"");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option '--max-rows' needs a positive integer"), std::string::npos) << r.err;
  r = netsql("snapshot --db /tmp/x.db --name x --max-age-s 1e3 \"SELECT 1\"");
  EXPECT_EQ(r.status, 2);
  r = netsql("snapshot --db /tmp/x.db --name x --log");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option '--log' needs a value"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace netsql::test

namespace netsql::test {
namespace {


// The shell, schedule, snapshot and serve share one parser
// (shell/command_line.h): the same mistake gets the same words from each,
// then the usage, and exit status 2.
TEST(Usage, SubcommandsRefuseUnknownOptionsAndMissingValuesInOneWording) {
  for (const auto& [args, want] : std::vector<std::pair<std::string, std::string>>{
           {"--x", "unknown option '--x'"},
           {"--file", "option '--file' needs a value"},
           {"--help=yes", "option '--help' takes no value"},
       }) {
    Ran r = netsql(args);
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_EQ(first_line(r.err), "netsql: " + want) << args;
    EXPECT_NE(r.err.find("\nusage: netsql "), std::string::npos) << r.err;
  }
  for (std::string name : {"schedule", "snapshot", "serve"}) {
    const std::string me = "netsql " + name + ": ";
    for (const auto& [args, want] : std::vector<std::pair<std::string, std::string>>{
             {"--x", "unknown option '--x'"},
             {"--x=1", "unknown option '--x'"},
             {"-z", "unknown option '-z'"},
             {"-config /dev/null", "unknown option '-config' (did you mean '--config'?)"},  // one dash
             {"-conf=/dev/null", "unknown option '-conf' (did you mean '--config'?)"},
             {"--config", "option '--config' needs a value"},  // all three take --config FILE
             {"/dev/null --config", "option '--config' needs a value"},
             {"--help=yes", "option '--help' takes no value"},
         }) {
      Ran r = netsql(name + " " + args);
      EXPECT_EQ(r.status, 2) << name << " " << args;
      EXPECT_EQ(first_line(r.err), me + want) << name << " " << args;
      EXPECT_NE(r.err.find("\nusage: netsql " + name + " "), std::string::npos) << r.err;
      EXPECT_EQ(r.out, "");
    }
  }
  Ran r = netsql("snapshot --max 1 \"SELECT 1\"");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(first_line(r.err), "netsql snapshot: ambiguous option '--max': --max-age-s, --max-rows");
  r = netsql("serve stray");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(first_line(r.err), "netsql serve: unexpected argument 'stray'");
}

// What each subcommand accepts, written out here (not read from its
// declaration): --help lists each of them and nothing else, and each is
// accepted, its value given as --name=VALUE (the --name VALUE form is
// EveryDeclaredOptionIsAcceptedAndNothingElse's).
TEST(Usage, SubcommandHelpListsEveryOptionItAccepts) {
  using Accepts = std::vector<std::pair<std::string, std::string>>;  // option, a good value ("" for a flag)
  const std::vector<std::pair<std::string, Accepts>> commands = {
      {"schedule", {{"--config", "/dev/null"}, {"--db", "/dev/null"}, {"--log", "/dev/null"}, {"--osquery-compat", ""}, {"--help", ""}}},
      {"snapshot",
       {{"--db", "/dev/null"}, {"--name", "q"}, {"--differential", ""}, {"--max-age-s", "60"}, {"--max-rows", "10"},
        {"--log", "/dev/null"}, {"--prometheus", "/dev/null"}, {"--config", "/dev/null"}, {"--help", ""}}},
      {"serve", {{"--listen", "127.0.0.1:0"}, {"--config", "/dev/null"}, {"--help", ""}}},
  };
  for (const auto& [name, accepts] : commands) {
    Ran help = netsql(name + " --help");
    ASSERT_EQ(help.status, 0) << name;
    EXPECT_TRUE(mentions(help.out, "-h")) << name;
    size_t option_lines = 0;
    for (size_t at = 0; (at = help.out.find("\n  ", at)) != std::string::npos; ++at)
      if (help.out.find_first_not_of(' ', at + 1) < help.out.find('\n', at + 1) &&
          help.out[help.out.find_first_not_of(' ', at + 1)] == '-')
        ++option_lines;
    EXPECT_EQ(option_lines, accepts.size()) << name << "\n" << help.out;
    for (const auto& [option, value] : accepts) {
      EXPECT_TRUE(mentions(help.out, option)) << name << " " << option << "\n" << help.out;
      std::string args = name + " " + option + (value.empty() ? "" : "=" + value) + " --help";
      Ran r = netsql(args);
      EXPECT_EQ(r.status, 0) << args << "\n" << r.err;
      EXPECT_EQ(r.out, help.out) << args;
    }
  }
}

// The spellings people use: --opt VALUE and --opt=VALUE, options before or
// after the operand, -- before an operand that starts with a dash.
TEST(Usage, SubcommandOptionsTakeTheirValueEitherWayAndAnyOrder) {
  for (const std::string args : {"/nonexistent/c.json", "--config /nonexistent/c.json", "--config=/nonexistent/c.json",
                                 "/nonexistent/c.json --db=/dev/null", "--log /dev/null -- /nonexistent/c.json"}) {
    Ran r = netsql("schedule " + args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(r.err, "Error: /nonexistent/c.json: cannot open: No such file or directory\n") << args;
  }
  const std::string db = temp_file("");  // an empty file is an empty database
  Ran r = netsql("snapshot --db=" + db + " --name=q --max-rows=5 \"SELECT 1 AS x\"");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q: snapshot 1, 1 rows, 1 added, 0 removed\n");
  r = netsql("snapshot \"SELECT 1 AS x\" --name q --db " + db);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q: snapshot 2, 1 rows, 1 added, 0 removed\n");
  unlink(db.c_str());
}

}  // namespace
}  // namespace netsql::test
