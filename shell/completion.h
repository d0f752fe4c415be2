// The bash completion script, generated from the declarations: commands
// and options (shell/usage.h), output formats, table names.
#pragma once

#include <string>

namespace netsql::shell {

std::string bash_completion();

}  // namespace netsql::shell
