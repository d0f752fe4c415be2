// A value of a result row, keeping its SQLite type: the output formats and
// the JSON writer write each type their own way.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace netsql::shell {

// A BLOB's bytes. Text formats write them as hex (as hex(x) does), JSON as
// a hex string, quote and insert as an X'..' literal.
struct Blob {
  std::string bytes;
};

using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;  // monostate: NULL

}  // namespace netsql::shell
