// How a table is declared: its columns (name, SQL type, one-line doc, which
// constraints it takes), and a cursor that generates its rows. One shared
// sqlite3_module (vtabs/module.cpp) serves every TableDef. No SQLite headers
// here, so declarations can be read by docs generators and tests alike.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/netns.h"

namespace netsql::vt {

enum class Type : uint8_t { Integer, Real, Text };

// Constraints a column can hand to its table's cursor.
inline constexpr unsigned kPushEq = 1;      // column = value
inline constexpr unsigned kPushIn = 2 | 1;  // column IN (...), all values at once
// An argument the table cannot do without (route_get's destination): a
// query that does not constrain it with = or IN is an error.
inline constexpr unsigned kRequired = 4 | 1;
inline constexpr unsigned kPushRange = 8;  // column <, <=, >, >= value (BETWEEN gives two of them)
inline constexpr unsigned kPushNe = 16;    // column != value

// Who serves a column: its table's cursor, or the template itself.
enum class Role : uint8_t {
  Data,       // the cursor produces it; constraints reach the cursor as `push` allows
  Namespace,  // the template takes its = or IS value, opens that network namespace
              // for the cursor (Query::netns) and echoes the value back
};

struct Column {
  std::string_view name;
  Type type = Type::Integer;
  std::string_view doc;
  unsigned push = 0;
  // Fraction of rows one pushed value leaves, for the planner's estimate.
  double selectivity = 1.0;
  // What pushing a value saves ("picks the dump family"); the docs append
  // "(pushed down for = and IN: <push_doc>)" from `push` and this.
  std::string_view push_doc = {};
  Role role = Role::Data;
  bool hidden = false;
  // What the cursor must ask its source for to fill this column, in bits
  // the table defines (sock_diag tables: the request's extension mask), so
  // that a query reading none of these columns does not pay for them.
  unsigned needs = 0;
  // An SQL function netsql registers, f(column, value), that the cursor
  // serves when a WHERE term is a call of it with this column first:
  // SQLite offers a virtual table such a call as a constraint (found by
  // xFindFunction) only when its column is the first argument.
  std::string_view function = {};
  // Part of what identifies a row (see key() below and Cursor::identity).
  bool identity = false;
};

// Marks a column as identifying its row: the row's rowid is a hash of the
// values of its table's identity columns, or of all its columns when the
// table marks none. Why: SQLite may answer `a = 1 OR b > 2` with one scan
// per branch (MULTI-INDEX OR) and drops rows of a later scan whose rowid an
// earlier scan returned, so a rowid must name the row, not its place in a
// scan. The trade-off: a value that may change between two scans of one
// query (a counter, an expiry) must not be an identity column (nor may a
// table with such columns mark none), or one row returned by both scans is
// returned twice; and rows equal in every identity column collapse into one.
constexpr Column key(Column c) {
  c.identity = true;
  return c;
}

// Marks a column hidden: SELECT * leaves it out, naming it reads it. For
// columns that cost a read per row the usual question does not need.
constexpr Column hide(Column c) {
  c.hidden = true;
  return c;
}

template <size_t... N>
constexpr auto concat(const std::array<Column, N>&... parts) {
  std::array<Column, (N + ...)> out{};
  size_t at = 0;
  ((std::copy(parts.begin(), parts.end(), out.begin() + at), at += N), ...);
  return out;
}

// A constraint value as SQLite handed it over.
struct Value {
  enum class Kind : uint8_t { Null, Integer, Real, Text, Blob };
  Kind kind = Kind::Null;
  int64_t i = 0;
  double r = 0;
  std::string s;

  // The integer this value equals under INTEGER affinity ('80', 80.0 and 80
  // all give 80); nullopt when it can equal no integer.
  std::optional<int64_t> as_integer() const;
  const std::string* as_text() const { return kind == Kind::Text ? &s : nullptr; }
};

// How a pushed constraint compares its column with its value(s).
enum class Op : uint8_t {
  Eq,        // = or IS one value, or IN: any of the values
  Lt, Le, Gt, Ge, Ne,
  Function,  // Column::function(column, value) is true
};

// "column equals one of values" (Op::Eq: one value for =, several for IN),
// or "column <op> value" (one value).
struct Constraint {
  int column;
  std::vector<Value> values;
  Op op = Op::Eq;
  mutable bool read = false;  // the cursor asked for it (Query::values)
};

// What xFilter passes to a cursor: the pushed constraints and the columns
// the statement reads. SQLite re-checks every constraint on the rows a
// cursor returns, so a cursor may return more rows than asked, never fewer.
struct Query {
  std::vector<Constraint> constraints;
  uint64_t used = ~uint64_t{0};
  // The network namespace to read (per-namespace tables): the caller's
  // unless the query gave a netns. Valid until the next filter() or until
  // the cursor closes, so a cursor may keep the pointer for lazy work.
  const kernel::Netns* netns = nullptr;
  // For cursors that wait: true once sqlite3_interrupt() was called on the
  // connection (any SQLite netsql loads into can tell; see module.cpp's
  // InterruptProbe). Cheap enough to ask every 100 ms; empty only for a
  // cursor driven outside SQLite.
  std::function<bool()> interrupted;

  bool uses(int column) const { return (used >> std::min(column, 63)) & 1; }
  bool uses_any(int first, int last_exclusive) const {
    for (int c = first; c < last_exclusive; ++c)
      if (uses(c)) return true;
    return false;
  }
  // The values an = or IN constraint allows for `column` (at most one such
  // constraint per column is pushed), or nullptr when there is none. A
  // cursor that returns rows must have asked for every pushed constraint
  // (here or with each()): debug builds check it.
  const std::vector<Value>* values(int column) const {
    for (const auto& c : constraints)
      if (c.column == column && c.op == Op::Eq) {
        c.read = true;
        return &c.values;
      }
    return nullptr;
  }
  // Calls f(value) for every pushed `column <op> value` (there may be
  // several: BETWEEN gives a Ge and a Le).
  template <class F>
  void each(int column, Op op, F&& f) const {
    for (const auto& c : constraints)
      if (c.column == column && c.op == op) {
        c.read = true;
        f(c.values.front());
      }
  }
};

// Where a cursor writes one column value: to SQLite, or folded into a hash
// of the row (its rowid, see key()).
class Cell {
 public:
  explicit Cell(void* sqlite_context) : ctx_(sqlite_context) {}
  explicit Cell(uint64_t* hash) : hash_(hash) {}
  void integer(int64_t v);
  void real(double v);
  void text(std::string_view v);
  void null();
  template <class T>
  void integer(const std::optional<T>& v) {
    if (v) integer(static_cast<int64_t>(*v)); else null();
  }
  void maybe_text(const std::optional<std::string_view>& v) {
    if (v) text(*v); else null();
  }
  // Text, with "" meaning NULL (absent).
  void text_or_null(std::string_view v) {
    if (v.empty()) null(); else text(v);
  }

 private:
  void fold(uint8_t tag, const void* data, size_t size);
  void* ctx_ = nullptr;
  uint64_t* hash_ = nullptr;
};

class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void filter(const Query& q) = 0;
  virtual bool eof() const = 0;
  virtual void next() = 0;
  virtual void column(int col, Cell& out) = 0;
  // What identifies the current row across scans, as its rowid (a socket's
  // cookie), or nullopt for a hash of its identity columns (see key()).
  virtual std::optional<int64_t> identity() const { return std::nullopt; }
};

struct TableDef {
  std::string_view name;
  std::string_view doc;
  std::span<const Column> columns;
  double rows;  // typical size of a full scan, for the planner
  std::unique_ptr<Cursor> (*open)();
  // Per-namespace tables get the hidden `netns` column below (its role
  // tells vtabs/module.cpp what to do with it): tcp_sockets('blue') or
  // WHERE netns = 'blue' reads that namespace.
  bool per_netns = false;

  int column_index(std::string_view col) const {
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i].name == col) return static_cast<int>(i);
    if (per_netns && col == kNetnsColumn.name) return netns_index();
    return -1;
  }
  int netns_index() const { return static_cast<int>(columns.size()); }
  const Column& column(int i) const { return i == netns_index() ? kNetnsColumn : columns[static_cast<size_t>(i)]; }
  size_t column_count() const { return columns.size() + (per_netns ? 1 : 0); }

  static constexpr Column kNetnsColumn{
      .name = "netns",
      .type = Type::Text,
      .doc = "network namespace to read: a name under /run/netns, a path to a namespace file, or a pid; as a table "
             "argument (tcp_sockets('blue')) or a constraint netns = 'blue' (or IS, or IN (...); other operators are "
             "an error); echoes it back; NULL for the caller's namespace",
      .role = Role::Namespace,
      .hidden = true};
};

// Reports something a query's caller should know but that does not stop
// the query (an SQLITE_WARNING through sqlite3_log).
void warn(const std::string& message);

// A problem with the query itself (bad value, unknown name). The table's
// name is prefixed to the message when it becomes an SQL error.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Resolves the text values of an enumerated column (state, family) to a bit
// mask. Text the lookup does not know is an Error naming the value;
// non-text values can equal no text column and add nothing.
template <class Lookup, class Invalid>
uint32_t resolve_mask(const std::vector<Value>& values, Lookup&& lookup, Invalid&& invalid) {
  uint32_t mask = 0;
  for (const auto& v : values) {
    const std::string* t = v.as_text();
    if (!t) continue;
    std::optional<uint32_t> m = lookup(*t);
    if (!m) throw Error(invalid(*t));
    mask |= *m;
  }
  return mask;
}

// A cursor over rows that filter() loads in full: for small tables (routes,
// interfaces, ...) whose kernel dumps are retried until consistent.
template <class Row>
class RowsCursor : public Cursor {
 public:
  void filter(const Query& q) final {
    rows_.clear();
    at_ = 0;
    load(q, rows_);
  }
  bool eof() const final { return at_ >= rows_.size(); }
  void next() final { ++at_; }
  void column(int col, Cell& out) final { column(rows_[at_], col, out); }

 protected:
  virtual void load(const Query& q, std::vector<Row>& rows) = 0;
  virtual void column(const Row& row, int col, Cell& out) = 0;

 private:
  std::vector<Row> rows_;
  size_t at_ = 0;
};

// A cursor that streams entries from a kernel-layer reader constructed
// from a path (next() -> std::optional<Entry>): one entry in memory at a
// time, the file reopened by every scan.
template <class Reader>
class ReaderCursor : public Cursor {
 public:
  using Entry = typename decltype(std::declval<Reader&>().next())::value_type;
  explicit ReaderCursor(const char* path) : path_(path) {}
  void filter(const Query&) final {
    reader_.emplace(path_);
    row_ = reader_->next();
  }
  bool eof() const final { return !row_; }
  void next() final { row_ = reader_->next(); }
  void column(int col, Cell& out) final { column(*row_, col, out); }

 protected:
  virtual void column(const Entry& row, int col, Cell& out) = 0;

 private:
  const char* path_;
  std::optional<Reader> reader_;
  std::optional<Entry> row_;
};

}  // namespace netsql::vt
