#include "repl_completion.h"

#include <strings.h>

#include <algorithm>
#include <cctype>

#include "dot_commands.h"
#include "output.h"
#include "vtabs/registry.h"

namespace netsql::shell {

namespace {

const char* const kKeywords[] = {"SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", "LIMIT", "JOIN", "COUNT(*)", "AND", "OR",
                                 "NOT", "IN", "AS", "DISTINCT", "HAVING", "LIKE", "IS NULL"};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// The identifiers of `sql`, lower-cased (quotes and punctuation split them).
std::vector<std::string> identifiers(std::string_view sql) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : sql) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> table_names(const std::vector<std::string>& db_tables) {
  std::vector<std::string> t = db_tables;
  for (const auto* def : vt::all_tables()) t.emplace_back(def->name);
  return t;
}

std::vector<std::string> format_words() {
  std::vector<std::string> w;
  std::string names = format_names();
  for (size_t at = 0; at <= names.size();) {
    size_t end = std::min(names.find('|', at), names.size());
    w.push_back(names.substr(at, end - at));
    at = end + 1;
  }
  return w;
}

}  // namespace

Completion complete_at(std::string_view before, std::string_view word, const std::vector<std::string>& db_tables) {
  Completion c;
  std::vector<std::string> all;
  size_t lead = before.find_first_not_of(" \t\r\n");
  if (lead == std::string_view::npos && !word.empty() && word[0] == '.') {
    for (const auto& d : dot_commands()) all.emplace_back(d.name);
  } else if (lead != std::string_view::npos && before[lead] == '.') {
    std::vector<std::string> args = dot_words(before.substr(lead));
    auto it = std::find_if(dot_commands().begin(), dot_commands().end(), [&](const DotCommand& d) { return d.name == args[0]; });
    if (it == dot_commands().end()) return c;
    DotArg kind = args.size() == 1 ? it->completes : DotArg::None;
    if (args.size() == 2 && (it->name == ".import" || (it->name == ".mode" && args[1] == "insert"))) kind = DotArg::Table;
    switch (kind) {
      case DotArg::OnOff: all = {"on", "off"}; break;
      case DotArg::Mode: all = format_words(); break;
      case DotArg::Table: all = table_names(db_tables); break;
      case DotArg::File: c.files = true; return c;
      case DotArg::None: return c;
    }
  } else {
    all.assign(std::begin(kKeywords), std::end(kKeywords));
    std::vector<std::string> tables = table_names(db_tables), ids = identifiers(before);
    all.insert(all.end(), tables.begin(), tables.end());
    bool named = false;
    for (const auto* def : vt::all_tables())
      named = named || std::find(ids.begin(), ids.end(), def->name) != ids.end();
    for (const auto* def : vt::all_tables()) {
      if (named && std::find(ids.begin(), ids.end(), def->name) == ids.end()) continue;
      for (size_t i = 0; i < def->column_count(); ++i) all.emplace_back(def->column(static_cast<int>(i)).name);
    }
  }
  for (auto& w : all)
    if (starts_with(w, word)) c.words.push_back(std::move(w));
  std::sort(c.words.begin(), c.words.end());
  c.words.erase(std::unique(c.words.begin(), c.words.end()), c.words.end());
  return c;
}

}  // namespace netsql::shell
