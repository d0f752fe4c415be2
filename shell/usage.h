// The command line of the netsql shell and of each subcommand, declared
// once: its parser accepts exactly the options declared here, and --help,
// the netsql(1) man page and the bash completion are generated from the
// same declarations.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netsql::shell {

// What an option's value (or a command's operand) is, for completion.
enum class Arg { None, Text, File, Format, Sql };

struct Option {
  std::string short_name;  // "-m", or "" when none
  std::string long_name;   // "--format", or "" when none
  std::string value;       // "FORMAT" for an option that takes a value, "" for a flag
  Arg kind = Arg::None;    // what the value is
  std::string doc;
  bool matches(std::string_view arg) const { return !arg.empty() && (arg == short_name || arg == long_name); }
};

struct Example {
  std::string command;  // after "netsql "
  std::string doc;
};

struct Command {
  std::string name;      // "netstat"; "" for the shell itself
  std::string synopsis;  // what follows "netsql [NAME] " on the usage line
  std::string summary;   // a paragraph: what it does
  std::vector<Option> options;
  Arg operand = Arg::None;  // what its non-option arguments are
  std::vector<Example> examples;
  // Runs the subcommand with the arguments after its name and returns the
  // exit status (main() dispatches through find_command()); nullptr for the
  // shell itself.
  int (*run)(const std::vector<std::string>& args) = nullptr;

  // The declared option `arg` names, or nullptr. Short flags that combine
  // (netstat's -tanp) are the parser's business.
  const Option* find(std::string_view arg) const;
  // "netsql netstat" / "netsql".
  std::string invocation() const;
};

// The shell itself, then its subcommands (netstat, schedule, snapshot,
// serve), each by the name typed after "netsql" and the function that builds
// its declaration on first use: a query builds the shell's alone (building
// every one was 5% of a one-shot query), --help, the man page and
// completion build all of them.
struct CommandEntry {
  std::string_view name;  // Command::name: "netstat"; "" for the shell itself
  const Command& (*command)();
};
std::span<const CommandEntry> command_table();
// The command called `name`, built now; nullptr if none is.
const Command* find_command(std::string_view name);
// Every command of command_table(), in its order, all built.
std::span<const Command* const> all_commands();
const Command& shell_command();
// Subcommands, declared next to their parsers.
const Command& netstat_command();
const Command& schedule_command();
const Command& snapshot_command();
const Command& serve_command();

// --help: usage line(s), summary, one line per option. The shell's text
// also lists the subcommands' usage lines.
std::string help_text(const Command& c);
// "0.1.0": project(VERSION) in CMakeLists.txt.
std::string_view version();
// "netsql 0.1.0 (SQLite 3.40.1)": this build, and the SQLite it runs on.
std::string version_text();

// Exit statuses of every command (the man page's EXIT STATUS).
struct ExitStatus {
  int code;
  std::string_view meaning;
};
std::span<const ExitStatus> exit_statuses();

}  // namespace netsql::shell
