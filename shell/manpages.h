// The man pages, generated from the declarations: netsql(1) from the
// command declarations (shell/usage.h), netsql-tables(7) from the table and
// function declarations (vtabs/). roff text for man(7) macros.
#pragma once

#include <string>
#include <string_view>

namespace netsql::shell {

std::string netsql_man_page();         // netsql.1
std::string netsql_tables_man_page();  // netsql-tables.7

// `text` as roff body text: backslashes and hyphens escaped, and a line
// starting with '.' or '\'' kept literal.
std::string roff(std::string_view text);

}  // namespace netsql::shell
