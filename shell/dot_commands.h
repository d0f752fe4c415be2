// The dot commands of the REPL and of scripts (.mode csv, .output FILE,
// ...), declared once: .help, the REPL's completion and the man page are
// generated from this table.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "session.h"

namespace netsql::shell {

// What a dot command's first argument is, for completion.
enum class DotArg { None, OnOff, Mode, Table, File };

enum class DotStatus { Ok, Error, Exit };

struct DotCommand {
  std::string_view name;  // ".mode"
  std::string_view args;  // "MODE [TABLE]"
  std::string_view help;  // one line
  DotArg completes;
  // `args` are the words after the name (quotes removed). Errors go to
  // `err` as "Error: ..."; output to `out` (already the .output file).
  DotStatus (*run)(Session& s, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
};

std::span<const DotCommand> dot_commands();

// The dot commands, one per line, as .help prints them (and the man page).
std::string dot_commands_help();

// Runs one dot command line (".mode csv"). Exit: .quit or .exit (and
// s.leaving set; s.exit_code by .exit).
DotStatus dot_command(Session& s, const std::string& line, std::ostream& out, std::ostream& err);

// The words of a dot command line: split at blanks, "double" or 'single'
// quotes keeping a word with blanks whole.
std::vector<std::string> dot_words(std::string_view line);

}  // namespace netsql::shell
