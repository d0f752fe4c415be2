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

}  // namespace netsql::shell
