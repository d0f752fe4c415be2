// The shell's one JSON writer. Every JSON text netsql writes is made of
// these pieces: the json and jsonl output modes (and --watch's JSON lines,
// which are jsonl), and the schedule's osquery log lines with their
// decorations. Each appends to a buffer the caller writes out a row at a
// time, so a result of any size takes the memory of one row.
#pragma once

#include <string>
#include <string_view>

#include "value.h"

namespace netsql::shell {

// A JSON string. A byte that is not part of well-formed UTF-8 becomes
// U+FFFD, so the text is always valid JSON; control characters are escaped
// (\n, \t, ..., else \u00XX).
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);
// A value: INTEGER and REAL as numbers (a REAL that is not finite as null),
// TEXT as a string, a BLOB as a string of its bytes in hex, NULL as null.
void append_json_value(std::string& out, const Value& v);

}  // namespace netsql::shell
