// Result formatting for the netsql shell: table, csv, tsv, json, jsonl,
// line, markdown, and sqlite3's box, column, list, quote, insert and html.
// Values keep their SQLite types so JSON keeps numbers as numbers and NULL
// as null. Results are written as their rows arrive, so a result of any
// size takes the memory of one row (table, box, column: of their first
// kTableLookahead rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "value.h"

namespace netsql::shell {

class Columnar;

enum class Format { Table, Csv, Tsv, Json, Jsonl, Line, Markdown, Box, Column, List, Quote, Insert, Html };

// "table" -> Format::Table, ...; nullopt for an unknown name.
std::optional<Format> parse_format(std::string_view name);
// "table|csv|...|html": every name parse_format takes.
const char* format_names();
// The same names, one string each, in that order.
std::vector<std::string> format_list();

struct OutputOptions {
  Format format = Format::Table;
  bool header = true;
  // When not empty: every row starts with a column `watch_time` holding
  // this text (--watch when the output is not a terminal).
  std::string watch_time;
  // When set (--watch when the output is not a terminal): the header is
  // written only when the columns differ from the last header written
  // through it (one statement re-run: the header once; two of different
  // columns: each block under its header), which it then holds.
  std::shared_ptr<std::vector<std::string>> last_header;
  // insert: the table named in each INSERT (quoted as SQL needs).
  std::string insert_table = "table";
  // box, column: .width per column (0: sized by the data; negative: right
  // aligned). A cell wider than a set width wraps onto more lines.
  std::vector<int> widths;
};

// How many rows the table format holds back to size its columns; later
// rows are written with those widths (a wider cell whole, past its edge).
inline constexpr size_t kTableLookahead = 1000;

// Writes one statement's result in the chosen format, row by row. Nothing
// is written before the first row (or end(true) for an empty result), so a
// statement that fails before its first row writes nothing.
class ResultWriter {
 public:
  ResultWriter(std::ostream& out, std::vector<std::string> columns, const OutputOptions& opt);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  void row(const std::vector<Value>& values);
  // After the last row: writes what the table format holds back and, when
  // `complete`, what closes the result (the header of an empty result, the
  // JSON array's end). After an error, end(false) keeps the rows already
  // stepped but leaves a JSON array open, so that no parser takes a
  // partial result for a whole one.
  void end(bool complete);
  size_t rows() const { return rows_; }

 private:
  void start();
  void write_row(const std::vector<Value>& values);
  void table_row(const std::vector<Value>& values);
  void size_by_header();
  void flush_table();
  void write_table_line(const std::vector<std::string>& cells);

  std::ostream& out_;
  std::vector<std::string> columns_;
  OutputOptions opt_;
  size_t rows_ = 0;
  bool started_ = false;
  std::string line_;                  // the row being written, reused
  std::vector<Value> timed_;          // watch_time: the row after its time, reused
  std::vector<std::string> keys_;     // json: "column": per column
  size_t name_width_ = 0;             // line: the widest column name
  // table: the rows held back, the widths and alignment they decided.
  std::vector<std::vector<std::string>> held_;
  std::vector<size_t> width_;
  std::vector<bool> numeric_;
  bool sized_ = false;
  std::vector<std::string> header_before_;  // last_header as it was, for a result that writes nothing
  std::unique_ptr<Columnar> columnar_;  // box, column
  std::vector<std::string> cells_;      // box, column: a row's texts, reused
  std::string cell_;                    // html: a cell's text, reused
  std::string insert_;                  // insert: "INSERT INTO t(..) VALUES("
};

// The columns a text takes on a terminal (wide characters two, combining
// marks none).
size_t display_width(const std::string& utf8);

}  // namespace netsql::shell
