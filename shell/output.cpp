#include "output.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <utility>

#include "columnar.h"
#include "encoding.h"
#include "json.h"

namespace netsql::shell {

std::optional<Format> parse_format(std::string_view n) {
  if (n == "table") return Format::Table;
  if (n == "csv") return Format::Csv;
  if (n == "tsv") return Format::Tsv;
  if (n == "json") return Format::Json;
  if (n == "jsonl") return Format::Jsonl;
  if (n == "line") return Format::Line;
  if (n == "markdown") return Format::Markdown;
  if (n == "box") return Format::Box;
  if (n == "column") return Format::Column;
  if (n == "list") return Format::List;
  if (n == "quote") return Format::Quote;
  if (n == "insert") return Format::Insert;
  if (n == "html") return Format::Html;
  return std::nullopt;
}

const char* format_names() { return "table|csv|tsv|json|jsonl|line|markdown|box|column|list|quote|insert|html"; }

std::vector<std::string> format_list() {
  std::vector<std::string> names;
  std::string_view all = format_names();
  for (size_t at = 0, bar; at <= all.size(); at = bar + 1) {
    bar = std::min(all.find('|', at), all.size());
    names.emplace_back(all.substr(at, bar - at));
  }
  return names;
}

namespace {

void append_real(std::string& out, double d) {
  if (!std::isfinite(d)) out += d != d ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
  else fmt::format_to(std::back_inserter(out), "{}", d);
}

// Appends the value as plain text; NULL as `null_text`, a BLOB as hex.
void append_text(std::string& out, const Value& v, std::string_view null_text) {
  if (auto i = std::get_if<int64_t>(&v)) fmt::format_to(std::back_inserter(out), "{}", *i);
  else if (auto d = std::get_if<double>(&v)) append_real(out, *d);
  else if (auto s = std::get_if<std::string>(&v)) out += *s;
  else if (auto b = std::get_if<Blob>(&v)) append_hex(out, b->bytes);
  else out += null_text;
}

// sqlite3's modes write a REAL as sqlite3_column_text() does ("3.0",
// "1.0e+300"), or, to be read back exactly (quote, insert), with 20 digits.
void append_sqlite_real(std::string& out, double d, bool exact) {
  char buf[64];
  sqlite3_snprintf(sizeof buf, buf, exact ? "%!.20g" : "%!.15g", d);
  out += buf;
}

// The text sqlite3's box, column, list and html modes show ("" for NULL).
void append_sqlite_text(std::string& out, const Value& v) {
  if (auto d = std::get_if<double>(&v)) append_sqlite_real(out, *d, false);
  else append_text(out, v, "");
}

void append_sql_string(std::string& out, const std::string& s) {
  out += '\'';
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}

// An SQL literal, as sqlite3's quote mode writes it.
void append_sql_literal(std::string& out, const Value& v) {
  if (auto i = std::get_if<int64_t>(&v)) fmt::format_to(std::back_inserter(out), "{}", *i);
  else if (auto d = std::get_if<double>(&v)) append_sqlite_real(out, *d, true);
  else if (auto s = std::get_if<std::string>(&v)) append_sql_string(out, *s);
  else if (auto b = std::get_if<Blob>(&v)) {
    out += "X'";
    for (unsigned char c : b->bytes) fmt::format_to(std::back_inserter(out), "{:02x}", c);
    out += '\'';
  } else out += "NULL";
}

// insert mode: a REAL with an integral value as "N.0", an infinite one as
// 1e999 (which reads back as infinity), text with its line
// ends through replace(), so that every INSERT stays on one line.
void append_insert_literal(std::string& out, const Value& v) {
  if (auto d = std::get_if<double>(&v); d && std::isinf(*d)) {
    out += *d > 0 ? "1e999" : "-1e999";
    return;
  }
  if (auto d = std::get_if<double>(&v); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18 && *d == std::trunc(*d)) {
    fmt::format_to(std::back_inserter(out), "{}.0", static_cast<int64_t>(*d));
    return;
  }
  auto s = std::get_if<std::string>(&v);
  if (!s || s->find_first_of("\r\n") == std::string::npos) return append_sql_literal(out, v);
  // A marker that does not occur in the text, as sqlite3 picks it.
  auto unused = [&](std::string a, std::string b) {
    if (s->find(a) == std::string::npos) return a;
    if (s->find(b) == std::string::npos) return b;
    for (unsigned k = 0;; ++k)
      if (auto m = fmt::format("({}{})", a, k); s->find(m) == std::string::npos) return m;
  };
  bool nl = s->find('\n') != std::string::npos, cr = s->find('\r') != std::string::npos;
  std::string zn = nl ? unused("\\n", "\\012") : "", zr = cr ? unused("\\r", "\\015") : "";
  if (nl) out += "replace(";
  if (cr) out += "replace(";
  out += '\'';
  for (char c : *s) {
    if (c == '\'') out += "''";
    else if (c == '\n') out += zn;
    else if (c == '\r') out += zr;
    else out += c;
  }
  out += '\'';
  if (cr) out += ",'" + zr + "',char(13))";
  if (nl) out += ",'" + zn + "',char(10))";
}

void append_html(std::string& out, const std::string& s) {
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '&': out += "&amp;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

// A name as an SQL identifier: bare when sqlite3 would leave it bare.
std::string sql_name(const std::string& name) {
  bool bare = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
              std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }) &&
              !sqlite3_keyword_check(name.data(), static_cast<int>(name.size()));
  if (bare) return name;
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

std::string text_of(const Value& v, std::string_view null_text) {
  std::string s;
  append_text(s, v, null_text);
  return s;
}

void append_csv(std::string& out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
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

void append_tsv(std::string& out, const std::string& s) {
  for (char c : s) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
}

void append_markdown(std::string& out, const std::string& s) {
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "<br>";
    else if (c != '\r') out += c;
  }
}

void append_padded(std::string& out, const std::string& s, size_t width, bool right) {
  size_t w = display_width(s);
  size_t fill = w < width ? width - w : 0;
  if (right) out.append(fill, ' ');
  out += s;
  if (!right) out.append(fill, ' ');
}

void trim_right(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
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

ResultWriter::ResultWriter(std::ostream& out, std::vector<std::string> columns, const OutputOptions& opt)
    : out_(out), columns_(std::move(columns)), opt_(opt) {
  if (!opt_.watch_time.empty()) columns_.insert(columns_.begin(), "watch_time");
  if (opt_.last_header && opt_.header) {
    opt_.header = *opt_.last_header != columns_;
    header_before_ = std::exchange(*opt_.last_header, columns_);
  }
  if (opt_.format == Format::Json || opt_.format == Format::Jsonl)
    for (const auto& c : columns_) keys_.push_back(json_string(c) + ":");
  if (opt_.format == Format::Line)
    for (const auto& c : columns_) name_width_ = std::max(name_width_, display_width(c));
  if (opt_.format == Format::Box || opt_.format == Format::Column)
    columnar_ = std::make_unique<Columnar>(out_, opt_.format == Format::Box, opt_.header, columns_, opt_.widths,
                                           kTableLookahead);
  if (opt_.format == Format::Insert) {
    insert_ = "INSERT INTO " + sql_name(opt_.insert_table);
    if (opt_.header) {
      insert_ += '(';
      for (size_t i = 0; i < columns_.size(); ++i) insert_ += (i ? "," : "") + sql_name(columns_[i]);
      insert_ += ')';
    }
    insert_ += " VALUES(";
  }
}

ResultWriter::~ResultWriter() = default;

// What comes before the first row: the header, the JSON array's start.
void ResultWriter::start() {
  started_ = true;
  line_.clear();
  switch (opt_.format) {
    case Format::Csv:
    case Format::Tsv:
      if (!opt_.header) return;
      for (size_t i = 0; i < columns_.size(); ++i) {
        if (i) line_ += opt_.format == Format::Csv ? ',' : '\t';
        opt_.format == Format::Csv ? append_csv(line_, columns_[i]) : append_tsv(line_, columns_[i]);
      }
      line_ += opt_.format == Format::Csv ? "\r\n" : "\n";
      break;
    case Format::Json: line_ = "["; break;
    case Format::Markdown:
      line_ = "|";
      for (const auto& c : columns_) {
        line_ += ' ';
        append_markdown(line_, c);
        line_ += " |";
      }
      line_ += "\n|";
      for (size_t i = 0; i < columns_.size(); ++i) line_ += " --- |";
      line_ += '\n';
      break;
    case Format::List:
    case Format::Quote:
      if (!opt_.header) return;
      for (size_t i = 0; i < columns_.size(); ++i) {
        if (i) line_ += opt_.format == Format::List ? '|' : ',';
        opt_.format == Format::List ? void(line_ += columns_[i]) : append_sql_string(line_, columns_[i]);
      }
      line_ += '\n';
      break;
    case Format::Html:
      if (!opt_.header) return;
      line_ = "<TR>";
      for (const auto& c : columns_) {
        line_ += "<TH>";
        append_html(line_, c);
        line_ += "</TH>\n";
      }
      line_ += "</TR>\n";
      break;
    case Format::Table:
    case Format::Jsonl:
    case Format::Line:
    case Format::Box:
    case Format::Column:
    case Format::Insert: break;
  }
  out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
}

void ResultWriter::row(const std::vector<Value>& v) {
  if (opt_.watch_time.empty()) return write_row(v);
  timed_.resize(v.size() + 1);
  timed_[0] = opt_.watch_time;
  std::copy(v.begin(), v.end(), timed_.begin() + 1);
  write_row(timed_);
}

void ResultWriter::write_row(const std::vector<Value>& v) {
  if (!started_) start();
  ++rows_;
  if (opt_.format == Format::Table) return table_row(v);
  const size_t n = columns_.size();
  if (columnar_) {
    cells_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      cells_[i].clear();
      append_sqlite_text(cells_[i], v[i]);
    }
    return columnar_->row(cells_);
  }
  line_.clear();
  switch (opt_.format) {
    case Format::Csv:
      for (size_t i = 0; i < n; ++i) {
        if (i) line_ += ',';
        if (auto s = std::get_if<std::string>(&v[i])) append_csv(line_, *s);
        else append_text(line_, v[i], "");
      }
      line_ += "\r\n";
      break;
    case Format::Tsv:
      for (size_t i = 0; i < n; ++i) {
        if (i) line_ += '\t';
        if (auto s = std::get_if<std::string>(&v[i])) append_tsv(line_, *s);
        else append_text(line_, v[i], "");
      }
      line_ += '\n';
      break;
    case Format::Json:
    case Format::Jsonl:
      if (opt_.format == Format::Json) line_ += rows_ > 1 ? ",\n" : "\n";
      line_ += '{';
      for (size_t i = 0; i < n; ++i) {
        if (i) line_ += ',';
        line_ += keys_[i];
        append_json_value(line_, v[i]);
      }
      line_ += '}';
      if (opt_.format == Format::Jsonl) line_ += '\n';
      break;
    case Format::Line:
      if (rows_ > 1) line_ += '\n';
      for (size_t i = 0; i < n; ++i) {
        append_padded(line_, columns_[i], name_width_, true);
        line_ += " = ";
        append_text(line_, v[i], "NULL");
        line_ += '\n';
      }
      break;
    case Format::Markdown:
      line_ += '|';
      for (size_t i = 0; i < n; ++i) {
        line_ += ' ';
        if (auto s = std::get_if<std::string>(&v[i])) append_markdown(line_, *s);
        else append_text(line_, v[i], "");
        line_ += " |";
      }
      line_ += '\n';
      break;
    case Format::List:
      for (size_t i = 0; i < n; ++i) {
        if (i) line_ += '|';
        append_sqlite_text(line_, v[i]);
      }
      line_ += '\n';
      break;
    case Format::Quote:
      for (size_t i = 0; i < n; ++i) {
        if (i) line_ += ',';
        append_sql_literal(line_, v[i]);
      }
      line_ += '\n';
      break;
    case Format::Insert:
      line_ = insert_;
      for (size_t i = 0; i < n; ++i) {
        if (i) line_ += ',';
        append_insert_literal(line_, v[i]);
      }
      line_ += ");\n";
      break;
    case Format::Html:
      line_ = "<TR>";
      for (size_t i = 0; i < n; ++i) {
        line_ += "<TD>";
        cell_.clear();
        append_sqlite_text(cell_, v[i]);
        append_html(line_, cell_);
        line_ += "</TD>\n";
      }
      line_ += "</TR>\n";
      break;
    case Format::Table:
    case Format::Box:
    case Format::Column: break;
  }
  out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
}

void ResultWriter::table_row(const std::vector<Value>& v) {
  const size_t n = columns_.size();
  std::vector<std::string> cells(n);
  for (size_t i = 0; i < n; ++i) cells[i] = visible(text_of(v[i], "NULL"));
  if (sized_) return write_table_line(cells);
  if (width_.empty()) size_by_header();
  for (size_t i = 0; i < n; ++i) {
    width_[i] = std::max(width_[i], display_width(cells[i]));
    if (std::holds_alternative<std::string>(v[i]) || std::holds_alternative<Blob>(v[i])) numeric_[i] = false;
  }
  held_.push_back(std::move(cells));
  if (held_.size() == kTableLookahead) flush_table();
}

void ResultWriter::size_by_header() {
  width_.assign(columns_.size(), 0);
  numeric_.assign(columns_.size(), true);
  if (opt_.header)
    for (size_t i = 0; i < columns_.size(); ++i) width_[i] = display_width(columns_[i]);
}

// Writes the header sized by itself and the rows held back, then those rows.
void ResultWriter::flush_table() {
  const size_t n = columns_.size();
  if (width_.empty()) size_by_header();
  sized_ = true;
  if (opt_.header) {
    line_.clear();
    for (size_t i = 0; i < n; ++i) {
      if (i) line_ += " | ";
      append_padded(line_, columns_[i], width_[i], false);
    }
    trim_right(line_);
    line_ += '\n';
    for (size_t i = 0; i < n; ++i) {
      if (i) line_ += "-+-";
      line_.append(width_[i], '-');
    }
    line_ += '\n';
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }
  for (const auto& cells : held_) write_table_line(cells);
  held_.clear();
  held_.shrink_to_fit();
}

void ResultWriter::write_table_line(const std::vector<std::string>& cells) {
  line_.clear();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) line_ += " | ";
    append_padded(line_, cells[i], width_[i], numeric_[i]);
  }
  trim_right(line_);
  line_ += '\n';
  out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
}

void ResultWriter::end(bool complete) {
  // sqlite3's row modes write nothing for an empty result.
  const bool silent_when_empty = opt_.format == Format::List || opt_.format == Format::Quote ||
                                 opt_.format == Format::Insert || opt_.format == Format::Html;
  // A statement that failed before its first row, or an empty result of
  // those modes, wrote no header: the next result's still is due.
  if ((!complete || silent_when_empty) && !rows_ && opt_.last_header) *opt_.last_header = header_before_;
  if (columnar_) return columnar_->end();
  if (silent_when_empty) return;
  if (opt_.format == Format::Table) {
    if (!sized_ && (complete || !held_.empty())) flush_table();
    return;
  }
  if (!complete) return;
  if (!started_) start();
  if (opt_.format == Format::Json) out_ << (rows_ ? "\n]\n" : "]\n");
}

}  // namespace netsql::shell
