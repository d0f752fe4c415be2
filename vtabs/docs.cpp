#include "vtabs/docs.h"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

#include "vtabs/registry.h"

namespace netsql::vt {

namespace {

std::string_view type_name(Type t) {
  switch (t) {
    case Type::Integer: return "INTEGER";
    case Type::Real: return "REAL";
    case Type::Text: return "TEXT";
  }
  return "";
}

// The column's doc; for a column the cursor takes pushed values of, the
// generated "(pushed down for = and IN: what it saves)", naming every
// operator and function it takes.
std::string column_doc(const Column& c) {
  std::string doc(c.doc);
  if (c.hidden) doc = "(hidden) " + doc;
  if (c.role != Role::Data || !(c.push & kPushEq)) return doc;
  std::vector<std::string> ops{"="};
  if ((c.push & kPushIn) == kPushIn) ops.push_back("IN");
  if (c.push & kPushRange) ops.insert(ops.end(), {"<", "<=", ">", ">="});
  if (c.push & kPushNe) ops.push_back("!=");
  if (!c.function.empty()) ops.push_back(fmt::format("{}({}, ...)", c.function, c.name));
  std::string list = ops.front();
  for (size_t i = 1; i < ops.size(); ++i) list += (i + 1 == ops.size() ? " and " : ", ") + ops[i];
  doc += fmt::format(" (pushed down for {}", list);
  if (!c.push_doc.empty()) doc += fmt::format(": {}", c.push_doc);
  return doc + ")";
}

}  // namespace

std::string table_markdown(const TableDef& def) {
  std::string s = fmt::format("### `{}`\n\n{}\n\n| column | type | description |\n| --- | --- | --- |\n", def.name, def.doc);
  for (size_t i = 0; i < def.column_count(); ++i) {
    const Column& c = def.column(static_cast<int>(i));
    s += fmt::format("| `{}` | {} | {} |\n", c.name, type_name(c.type), column_doc(c));
  }
  return s;
}

std::string table_text(const TableDef& def) {
  std::string s = fmt::format("-- {}\nCREATE TABLE {} (\n", def.doc, def.name);
  for (size_t i = 0; i < def.column_count(); ++i) {
    const Column& c = def.column(static_cast<int>(i));
    s += fmt::format("  {:<18} {:<7}{} -- {}\n", c.name, type_name(c.type), i + 1 < def.column_count() ? "," : " ",
                     column_doc(c));
  }
  return s + ");\n";
}

std::string reference_markdown() {
  std::string s(kReferenceBegin);
  s += "\n\n";
  for (const TableDef* def : all_tables()) s += table_markdown(*def) + "\n";
  s += "### SQL functions\n\n| function | returns |\n| --- | --- |\n";
  for (const FunctionDoc& f : all_functions()) s += fmt::format("| `{}` | {} |\n", f.signature, f.doc);
  s += "\n";
  s += kReferenceEnd;
  return s;
}

std::string replace_reference(std::string_view text) {
  size_t b = text.find(kReferenceBegin), e = text.find(kReferenceEnd);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b)
    throw std::runtime_error("table reference markers not found");
  return std::string(text.substr(0, b)) + reference_markdown() + std::string(text.substr(e + kReferenceEnd.size()));
}

}  // namespace netsql::vt
