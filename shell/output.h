// Result formatting for the netsql shell: table, csv, tsv, json, jsonl,
// line, markdown. Values keep their SQLite types so JSON keeps numbers as
// numbers and NULL as null.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace netsql::shell {

enum class Format { Table, Csv, Tsv, Json, Jsonl, Line, Markdown };

// "table" -> Format::Table, ...; nullopt for an unknown name.
std::optional<Format> parse_format(std::string_view name);
const char* format_names();  // "table|csv|tsv|json|jsonl|line|markdown"

using Value = std::variant<std::monostate, int64_t, double, std::string>;  // monostate: NULL

struct Result {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

struct OutputOptions {
  Format format = Format::Table;
  bool header = true;
};

void write_result(std::ostream& out, const Result& r, const OutputOptions& opt);

// Helpers shared with other writers (exposed for tests).
std::string csv_field(const std::string& s);
std::string json_string(const std::string& s);
size_t display_width(const std::string& utf8);

}  // namespace netsql::shell
