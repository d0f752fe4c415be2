// The interactive prompt: libedit line editing and history
// (~/.netsql_history), completion of table and column names, multi-line
// statements ended by ';', dot commands, Ctrl-C interrupting a query.
#pragma once

#include "session.h"

namespace netsql::shell {

int run_repl(Session& s);

// The dot commands, one per line, as .help prints them (and the man page).
const char* dot_commands_help();

// A dot command (".mode csv"); returns false for .quit. Writes to out/err.
// Shared by the REPL and scripts run with -f.
bool dot_command(Session& s, const std::string& line, std::ostream& out, std::ostream& err, bool& ok);

}  // namespace netsql::shell
