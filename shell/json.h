// The shell's one JSON writer. Every JSON text netsql writes is made of
// these pieces: the json and jsonl output modes (and --watch's JSON lines,
// which are jsonl), and the schedule's osquery log lines with their
// envelopes and decorations, framed by JsonObjectWriter/JsonArrayWriter.
// Each appends to a buffer the caller writes out a row at a time (and may
// empty between rows), so a result of any size takes the memory of one row.
#pragma once

#include <cstdint>
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

class JsonArrayWriter;

// One JSON object appended to `out` member by member: '{' now, the commas
// between members, '}' at end(). A nested array or object is written
// through its own writer (array(), object()) and ended before the next
// member. Without braces it writes members only, to be spliced into other
// objects with members() (an envelope written once, used on every line).
class JsonObjectWriter {
 public:
  enum class Braces { With, Without };
  explicit JsonObjectWriter(std::string& out, Braces braces = Braces::With);
  JsonObjectWriter& string(std::string_view key, std::string_view value);
  JsonObjectWriter& number(std::string_view key, int64_t value);
  JsonObjectWriter& boolean(std::string_view key, bool value);
  // A value that is JSON text already (an object another writer framed).
  JsonObjectWriter& json(std::string_view key, std::string_view text);
  // Members written by a Braces::Without writer.
  JsonObjectWriter& members(std::string_view text);
  JsonArrayWriter array(std::string_view key);
  JsonObjectWriter object(std::string_view key);
  void end();

 private:
  std::string& key(std::string_view key);
  std::string& out_;
  bool first_ = true, braces_;
};

// One JSON array appended to `out`: '[' now, ',' before every element but
// the first, ']' at end().
class JsonArrayWriter {
 public:
  explicit JsonArrayWriter(std::string& out);
  // The buffer, ready for the next element to be appended.
  std::string& element();
  // The next element, an object.
  JsonObjectWriter object() { return JsonObjectWriter(element()); }
  void end() { out_ += ']'; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace netsql::shell
