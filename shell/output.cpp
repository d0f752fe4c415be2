#include "output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace netsql::shell {

std::optional<Format> parse_format(std::string_view n) {
  if (n == "table") return Format::Table;
  if (n == "csv") return Format::Csv;
  if (n == "tsv") return Format::Tsv;
  if (n == "json") return Format::Json;
  if (n == "jsonl") return Format::Jsonl;
  if (n == "line") return Format::Line;
  if (n == "markdown") return Format::Markdown;
  return std::nullopt;
}

const char* format_names() { return "table|csv|tsv|json|jsonl|line|markdown"; }

namespace {

std::string real_text(double d) {
  if (!std::isfinite(d)) return d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
  std::string s = fmt::format("{}", d);
  return s;
}

// The value as plain text; NULL as `null_text`.
std::string text_of(const Value& v, const char* null_text) {
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return real_text(*d);
  if (auto s = std::get_if<std::string>(&v)) return *s;
  return null_text;
}

std::string json_value(const Value& v) {
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return std::isfinite(*d) ? real_text(*d) : "null";
  if (auto s = std::get_if<std::string>(&v)) return json_string(*s);
  return "null";
}

std::string json_object(const Result& r, const std::vector<Value>& row) {
  std::string s = "{";
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (i) s += ",";
    s += json_string(r.columns[i]) + ":" + json_value(row[i]);
  }
  return s + "}";
}

// Control characters shown visibly in aligned output.
std::string visible(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string tsv_field(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}

std::string pad(const std::string& s, size_t width, bool right) {
  size_t w = display_width(s);
  std::string fill(w < width ? width - w : 0, ' ');
  return right ? fill + s : s + fill;
}

void write_table(std::ostream& out, const Result& r, const OutputOptions& opt) {
  size_t n = r.columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(n, 0);
  std::vector<bool> numeric(n, true);
  if (opt.header)
    for (size_t i = 0; i < n; ++i) width[i] = display_width(r.columns[i]);
  for (const auto& row : r.rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < n; ++i) {
      line.push_back(visible(text_of(row[i], "NULL")));
      width[i] = std::max(width[i], display_width(line.back()));
      if (std::holds_alternative<std::string>(row[i])) numeric[i] = false;
    }
    cells.push_back(std::move(line));
  }
  auto rule = [&] {
    for (size_t i = 0; i < n; ++i) out << (i ? "-+-" : "") << std::string(width[i], '-');
    out << "\n";
  };
  if (opt.header) {
    std::string h;
    for (size_t i = 0; i < n; ++i) h += (i ? " | " : "") + pad(r.columns[i], width[i], false);
    while (!h.empty() && h.back() == ' ') h.pop_back();
    out << h << "\n";
    rule();
  }
  for (const auto& line : cells) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (i ? " | " : "") + pad(line[i], width[i], numeric[i]);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  }
}

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += "<br>";
    else if (c != '\r') out += c;
  }
  return out;
}

}  // namespace

size_t display_width(const std::string& s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    uint32_t cp = c;
    if (len > 1 && i + len <= s.size()) {
      cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    // East Asian wide and emoji ranges take two columns; combining marks none.
    bool wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
                (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd);
    bool combining = cp >= 0x300 && cp <= 0x36f;
    w += combining ? 0 : wide ? 2 : 1;
    i += len;
  }
  return w;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void write_result(std::ostream& out, const Result& r, const OutputOptions& opt) {
  switch (opt.format) {
    case Format::Table: return write_table(out, r, opt);
    case Format::Csv:
    case Format::Tsv: {
      bool csv = opt.format == Format::Csv;
      const char* sep = csv ? "," : "\t";
      const char* eol = csv ? "\r\n" : "\n";
      auto field = [&](const std::string& s) { return csv ? csv_field(s) : tsv_field(s); };
      if (opt.header) {
        for (size_t i = 0; i < r.columns.size(); ++i) out << (i ? sep : "") << field(r.columns[i]);
        out << eol;
      }
      for (const auto& row : r.rows) {
        for (size_t i = 0; i < row.size(); ++i) out << (i ? sep : "") << field(text_of(row[i], ""));
        out << eol;
      }
      return;
    }
    case Format::Json: {
      out << "[";
      for (size_t k = 0; k < r.rows.size(); ++k) out << (k ? ",\n" : "\n") << json_object(r, r.rows[k]);
      out << (r.rows.empty() ? "]\n" : "\n]\n");
      return;
    }
    case Format::Jsonl:
      for (const auto& row : r.rows) out << json_object(r, row) << "\n";
      return;
    case Format::Line: {
      size_t w = 0;
      for (const auto& c : r.columns) w = std::max(w, display_width(c));
      for (size_t k = 0; k < r.rows.size(); ++k) {
        if (k) out << "\n";
        for (size_t i = 0; i < r.columns.size(); ++i)
          out << pad(r.columns[i], w, true) << " = " << text_of(r.rows[k][i], "NULL") << "\n";
      }
      return;
    }
    case Format::Markdown: {
      out << "|";
      for (const auto& c : r.columns) out << " " << markdown_cell(c) << " |";
      out << "\n|";
      for (size_t i = 0; i < r.columns.size(); ++i) out << " --- |";
      out << "\n";
      for (const auto& row : r.rows) {
        out << "|";
        for (const auto& v : row) out << " " << markdown_cell(text_of(v, "")) << " |";
        out << "\n";
      }
      return;
    }
  }
}

}  // namespace netsql::shell
