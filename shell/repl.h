// The interactive prompt: libedit line editing (opened when the prompt
// starts: shell/libedit.h) and history
// (~/.netsql_history), completion of table and column names, multi-line
// statements ended by ';', dot commands, Ctrl-C interrupting a query.
#pragma once

#include "session.h"

namespace netsql::shell {

// Returns the exit status (.exit CODE, or 0).
int run_repl(Session& s);

}  // namespace netsql::shell
