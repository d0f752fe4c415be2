// sqlite3's columnar layouts, box and column: every cell left aligned (right
// with a negative .width), a cell's newlines and other control characters
// starting new lines inside its row, tabs expanded to 8-column stops, a
// line divider after each row once any row spans several lines. Columns are
// sized by the first kTableLookahead rows; later rows keep those widths (a
// wider cell is written whole, past its edge).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace netsql::shell {

class Columnar {
 public:
  // `widths`: .width per column (0 or absent: sized by the data).
  Columnar(std::ostream& out, bool box, bool header, const std::vector<std::string>& columns, const std::vector<int>& widths,
           size_t lookahead);

  void row(const std::vector<std::string>& cells);
  // Writes what is held back and, after any row, the closing border.
  void end();

 private:
  using Lines = std::vector<std::vector<std::string>>;  // per column, its lines

  Lines split(const std::vector<std::string>& cells) const;
  void flush();
  void write(const Lines& row);
  void write_line(const std::vector<std::string>& cells, bool centred);
  void border(const char* left, const char* middle, const char* right);

  std::ostream& out_;
  bool box_, header_;
  std::vector<std::string> columns_;
  std::vector<int> set_;          // .width, one per column
  size_t lookahead_;
  std::vector<size_t> width_;
  std::vector<Lines> held_;
  bool sized_ = false, multiline_ = false, wrote_row_ = false;
  std::string line_;
};

// The first display line of `text` at most `max` characters wide (0: no
// limit), as sqlite3 cuts cells: tabs expanded, stopping at any other
// control character. `rest` is set to what follows (npos when nothing).
std::string display_line(const std::string& text, size_t from, size_t max, size_t& rest);

}  // namespace netsql::shell
