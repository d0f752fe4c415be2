#include "json.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "encoding.h"

namespace netsql::shell {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_length(s, i);
      if (n) out.append(s, i, n);
      else out += "\xef\xbf\xbd";  // U+FFFD
      i += n ? n : 1;
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  out += '"';
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

void append_json_value(std::string& out, const Value& v) {
  if (auto i = std::get_if<int64_t>(&v)) {
    fmt::format_to(std::back_inserter(out), "{}", *i);
  } else if (auto d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) fmt::format_to(std::back_inserter(out), "{}", *d);
    else out += "null";
  } else if (auto s = std::get_if<std::string>(&v)) {
    append_json_string(out, *s);
  } else if (auto b = std::get_if<Blob>(&v)) {
    out += '"';
    append_hex(out, b->bytes);
    out += '"';
  } else {
    out += "null";
  }
}

JsonObjectWriter::JsonObjectWriter(std::string& out, Braces braces) : out_(out), braces_(braces == Braces::With) {
  if (braces_) out_ += '{';
}

std::string& JsonObjectWriter::key(std::string_view key) {
  if (!first_) out_ += ',';
  first_ = false;
  append_json_string(out_, key);
  out_ += ':';
  return out_;
}

JsonObjectWriter& JsonObjectWriter::string(std::string_view k, std::string_view value) {
  append_json_string(key(k), value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::number(std::string_view k, int64_t value) {
  key(k) += std::to_string(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::boolean(std::string_view k, bool value) {
  key(k) += value ? "true" : "false";
  return *this;
}

JsonObjectWriter& JsonObjectWriter::json(std::string_view k, std::string_view text) {
  key(k) += text;
  return *this;
}

JsonObjectWriter& JsonObjectWriter::members(std::string_view text) {
  if (text.empty()) return *this;
  if (!first_) out_ += ',';
  first_ = false;
  out_ += text;
  return *this;
}

JsonArrayWriter JsonObjectWriter::array(std::string_view k) { return JsonArrayWriter(key(k)); }
JsonObjectWriter JsonObjectWriter::object(std::string_view k) { return JsonObjectWriter(key(k)); }

void JsonObjectWriter::end() {
  if (braces_) out_ += '}';
}

JsonArrayWriter::JsonArrayWriter(std::string& out) : out_(out) { out_ += '['; }

std::string& JsonArrayWriter::element() {
  if (!first_) out_ += ',';
  first_ = false;
  return out_;
}

}  // namespace netsql::shell
