// One parser for every command line (the shell's, schedule's, snapshot's,
// serve's, netstat's with its combined letters -tulpn): getopt_long over the
// options the Command declares (shell/usage.h), so that what a command
// accepts, its --help and its error texts all come from that one list. Each
// command then reads the parsed options in its own terms. GNU forms: --db
// FILE, --db=FILE, -h, options and operands in any order, -- ends the
// options; unique prefixes (--diff) are accepted.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "usage.h"

namespace netsql::shell {

struct ParsedCommandLine {
  // The declared options given, in order, each with its value ("" for a flag).
  std::vector<std::pair<const Option*, std::string>> options;
  std::vector<std::string> operands;  // the rest, in order
};

// Parses `args` (what follows "netsql NAME") against c.options into `out`.
// Returns the exit status when parsing ends the run: 0 after --help (the
// usage printed on standard output), 2 after a usage error ("netsql NAME:
// unknown option '--x'", "... option '--db' needs a value", "... option
// '--help' takes no value", then the usage, on standard error).
// Dashes::OneOrTwo (the shell, for sqlite3's -cmd, -csv, -header) also
// takes long options with one dash (getopt_long_only).
enum class Dashes { Two, OneOrTwo };
std::optional<int> parse_command_line(const Command& c, const std::vector<std::string>& args, ParsedCommandLine& out,
                                      Dashes dashes = Dashes::Two);

// The parse itself: "" when `args` parse, else what is wrong ("unknown
// option '-z'"), in the words parse_command_line prints. --help, when
// given, is the last option in `out` (the parse stops there).
std::string parse_options(const Command& c, const std::vector<std::string>& args, ParsedCommandLine& out,
                          Dashes dashes = Dashes::Two);

// "netsql NAME: what", then the usage, on standard error; returns 2, the
// exit status of a usage error.
int usage_error(const Command& c, const std::string& what);

// "option '--max-rows' needs what": the one wording for a value that is
// there but not right (a number out of range, an address that is none).
std::string option_needs(const Option& o, const std::string& what);

}  // namespace netsql::shell
