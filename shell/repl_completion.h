// What Tab offers at the prompt, from the declarations: dot command names
// (shell/dot_commands.h) and their arguments (on/off, modes, table names,
// file names), SQL keywords, table names, and the columns of the tables the
// statement names (of every table only while it names none). Each
// candidate once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netsql::shell {

struct Completion {
  std::vector<std::string> words;  // sorted, unique, each starting with the word typed (any case)
  bool files = false;              // a file name is wanted: the line editor's own completion
};

// `before`: the statement (or dot command line) up to the word being typed;
// `word`: that word so far; `db_tables`: the database's own tables.
Completion complete_at(std::string_view before, std::string_view word, const std::vector<std::string>& db_tables);

}  // namespace netsql::shell
