#include "csv_import.h"

#include <fmt/format.h>

#include <fstream>
#include <stdexcept>
#include <vector>

#include "script.h"
#include "statement.h"

namespace netsql::shell {

namespace {

// The records of a CSV file, one at a time.
class CsvReader {
 public:
  explicit CsvReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw std::runtime_error("cannot open \"" + path + "\"");
  }

  // The next record's fields; false at the end of the file.
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    int c = in_.get();
    if (c == EOF) return false;
    start_line_ = ++line_;
    size_t bytes = 0;
    std::string field;
    bool quoted = false, was_quoted = false;
    for (;; c = in_.get()) {
      if (++bytes > kMaxStatementBytes)
        throw std::runtime_error(fmt::format("{}:{}: record longer than {} MiB", path_, start_line_, kMaxStatementBytes >> 20));
      if (quoted) {
        if (c == EOF) throw std::runtime_error(fmt::format("{}:{}: unescaped \" character", path_, start_line_));
        if (c == '"') {
          if (in_.peek() == '"') field += static_cast<char>(in_.get());
          else quoted = false;
        } else {
          if (c == '\n') ++line_;
          field += static_cast<char>(c);
        }
        continue;
      }
      if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == ',' || c == '\n' || c == EOF) {
        if (c != ',' && !was_quoted && !field.empty() && field.back() == '\r') field.pop_back();
        fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
        if (c != ',') return true;
      } else if (c == '\r' && was_quoted) {
        // the \r of a \r\n after a quoted field
      } else {
        field += static_cast<char>(c);
      }
    }
  }

  size_t line() const { return start_line_; }

 private:
  std::string path_;
  std::ifstream in_;
  size_t line_ = 0, start_line_ = 0;
};

std::string quoted(const std::string& name) {
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

}  // namespace

size_t import_csv(Session& s, const std::string& path, const std::string& table, std::ostream& warn) {
  sqlite3* db = s.db();
  CsvReader in(path);
  std::vector<std::string> fields;
  size_t columns = 0;
  {
    Statement probe(db, "SELECT count(*) FROM pragma_table_info(?)");
    if (probe.bind(1, table).step()) columns = static_cast<size_t>(probe.int64(0));
  }
  exec(db, "SAVEPOINT netsql_import");
  try {
    if (columns == 0) {  // a new table, named by the first record
      if (!in.next(fields)) throw std::runtime_error("\"" + path + "\" is empty: no column names for " + table);
      std::string sql = "CREATE TABLE " + quoted(table) + "(\n";
      for (size_t i = 0; i < fields.size(); ++i) sql += (i ? ", " : "") + quoted(fields[i]) + " TEXT";
      exec(db, sql + ")");
      columns = fields.size();
    }
    std::string sql = "INSERT INTO " + quoted(table) + " VALUES(";
    for (size_t i = 0; i < columns; ++i) sql += i ? ",?" : "?";
    Statement insert(db, sql + ")");
    size_t rows = 0;
    while (in.next(fields)) {
      if (fields.size() < columns)
        warn << fmt::format("{}:{}: expected {} columns but found {} - filling the rest with NULL\n", path, in.line(), columns,
                            fields.size());
      else if (fields.size() > columns)
        warn << fmt::format("{}:{}: expected {} columns but found {} - extras ignored\n", path, in.line(), columns, fields.size());
      for (size_t i = 0; i < columns; ++i) {
        int k = static_cast<int>(i) + 1;
        if (i < fields.size()) insert.bind(k, std::string_view(fields[i]));
        else insert.bind_null(k);
      }
      try {
        insert.run();
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("{}:{}: INSERT failed: {}", path, in.line(), e.what()));
      }
      insert.reset();
      ++rows;
    }
    exec(db, "RELEASE netsql_import");
    return rows;
  } catch (...) {
    exec_quietly(db, "ROLLBACK TO netsql_import; RELEASE netsql_import");
    throw;
  }
}

}  // namespace netsql::shell
