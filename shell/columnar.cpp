#include "columnar.h"

#include <algorithm>
#include <cstdlib>

#include "output.h"

namespace netsql::shell {

std::string display_line(const std::string& z, size_t i, size_t max, size_t& rest) {
  if (max == 0) max = 1000000;
  std::string out;
  size_t n = 0;
  auto at = [&](size_t k) { return k < z.size() ? static_cast<unsigned char>(z[k]) : 0u; };
  while (n < max && i < z.size()) {
    unsigned char c = at(i);
    if (c >= ' ') {
      ++n;
      do out += z[i++];
      while ((at(i) & 0xc0) == 0x80);
    } else if (c == '\t') {
      do {
        ++n;
        out += ' ';
      } while ((n & 7) != 0 && n < max);
      ++i;
    } else {
      break;
    }
  }
  if (n >= max && at(i) >= ' ') rest = i;
  else if (at(i) == '\r' && at(i + 1) == '\n') rest = i + 2 < z.size() ? i + 2 : std::string::npos;
  else if (i + 1 >= z.size()) rest = std::string::npos;
  else rest = i + 1;
  return out;
}

Columnar::Columnar(std::ostream& out, bool box, bool header, const std::vector<std::string>& columns,
                   const std::vector<int>& widths, size_t lookahead)
    : out_(out), box_(box), header_(box || header), set_(columns.size(), 0), lookahead_(lookahead) {
  for (size_t i = 0; i < columns.size() && i < widths.size(); ++i) set_[i] = widths[i];
  width_.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    size_t rest;
    columns_.push_back(display_line(columns[i], 0, static_cast<size_t>(std::abs(set_[i])), rest));
    // sqlite3 sizes by the names even when it does not show them.
    width_[i] = std::max(static_cast<size_t>(std::abs(set_[i])), display_width(columns_[i]));
  }
}

Columnar::Lines Columnar::split(const std::vector<std::string>& cells) const {
  Lines lines(cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    size_t at = 0;
    do lines[i].push_back(display_line(cells[i], at, static_cast<size_t>(std::abs(set_[i])), at));
    while (at != std::string::npos);
  }
  return lines;
}

void Columnar::row(const std::vector<std::string>& cells) {
  Lines lines = split(cells);
  bool several = std::any_of(lines.begin(), lines.end(), [](const auto& l) { return l.size() > 1; });
  if (sized_) {
    multiline_ = multiline_ || several;
    return write(lines);
  }
  multiline_ = multiline_ || several;
  for (size_t i = 0; i < lines.size(); ++i)
    for (const auto& l : lines[i]) width_[i] = std::max(width_[i], display_width(l));
  held_.push_back(std::move(lines));
  if (held_.size() == lookahead_) flush();
}

void Columnar::border(const char* left, const char* middle, const char* right) {
  line_ = left;
  for (size_t i = 0; i < width_.size(); ++i) {
    if (i) line_ += middle;
    for (size_t k = 0; k < width_[i] + 2; ++k) line_ += "─";
  }
  line_ += right;
  line_ += '\n';
  out_ << line_;
}

void Columnar::flush() {
  sized_ = true;
  if (held_.empty()) return;
  if (box_) {
    border("┌", "┬", "┐");
    write_line(columns_, true);
    border("├", "┼", "┤");
  } else if (header_) {
    write_line(columns_, false);
    line_.clear();
    for (size_t i = 0; i < width_.size(); ++i) {
      if (i) line_ += "  ";
      line_.append(width_[i], '-');
    }
    out_ << line_ << '\n';
  }
  for (const auto& r : held_) write(r);
  held_.clear();
  held_.shrink_to_fit();
}

// One display line of a row (or the header, `centred` in a box).
void Columnar::write_line(const std::vector<std::string>& cells, bool centred) {
  line_ = box_ ? "│ " : "";
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string& c = cells[i];
    size_t w = display_width(c), fill = w < width_[i] ? width_[i] - w : 0;
    size_t before = centred ? fill / 2 : set_[i] < 0 ? fill : 0;
    line_.append(before, ' ');
    line_ += c;
    line_.append(fill - before, ' ');
    if (i + 1 < cells.size()) line_ += box_ ? " │ " : "  ";
  }
  line_ += box_ ? " │\n" : "\n";
  out_ << line_;
}

void Columnar::write(const Lines& row) {
  if (wrote_row_ && multiline_) {
    if (box_) border("├", "┼", "┤");
    else out_ << '\n';
  }
  wrote_row_ = true;
  size_t n = 0;
  for (const auto& l : row) n = std::max(n, l.size());
  std::vector<std::string> cells(row.size());
  for (size_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < row.size(); ++i) cells[i] = k < row[i].size() ? row[i][k] : std::string();
    write_line(cells, false);
  }
}

void Columnar::end() {
  if (!sized_) flush();
  if (wrote_row_ && box_) border("└", "┴", "┘");
}

}  // namespace netsql::shell
