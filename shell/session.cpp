#include "session.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>

#include "signals.h"

extern "C" int sqlite3_netsql_init(sqlite3* db, char** err, const sqlite3_api_routines* api);

namespace netsql::shell {

namespace {

std::atomic<sqlite3*> g_current{nullptr};

}  // namespace

void interrupt_current() {
  if (sqlite3* db = g_current.load()) sqlite3_interrupt(db);
}

namespace {

// A connection to `path`; the netsql tables come with it (registered for
// every connection this process opens).
sqlite3* open_connection(const std::string& path) {
  // The same registration function the loadable extension uses, run by
  // SQLite itself for every connection this process opens.
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(sqlite3_netsql_init));
  sqlite3* db = nullptr;
  // NOMUTEX: a session's connection is only ever used by the thread that
  // opened it (other threads only call sqlite3_interrupt, which needs no
  // lock), so it skips the connection mutex that every sqlite3_column_*
  // call would take: a fifth of the instructions of printing wide rows,
  // and of the collector's readers, which read and bind every column.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// The line of `sql` (line 1 at `base`) where the statement at `at` starts.
size_t line_at(std::string_view sql, size_t at, size_t base) {
  size_t start = sql.find_first_not_of(" \t\r\n", at);
  if (start == std::string_view::npos) start = sql.size();
  return base + static_cast<size_t>(std::count(sql.begin(), sql.begin() + static_cast<std::ptrdiff_t>(start), '\n'));
}

// EXPLAIN QUERY PLAN's detail with the pushdown plan of a netsql table
// (its idxStr, vtabs/module.cpp) in words: "SCAN tcp_sockets VIRTUAL TABLE
// INDEX 2:state EQ,local_port IN;used=0x3" becomes "SCAN tcp_sockets
// (kernel filter: state = ?, local_port IN (...))".
std::string readable_plan(std::string detail) {
  size_t v = detail.find(" VIRTUAL TABLE INDEX ");
  if (v == std::string::npos) return detail;
  size_t colon = detail.find(':', v);
  size_t used = detail.find(";used=0x", v);
  if (colon == std::string::npos || used == std::string::npos) return detail;
  static const std::pair<std::string_view, std::string_view> kOps[] = {
      {"EQ", "= ?"}, {"IS", "IS ?"}, {"IN", "IN (...)"}, {"LT", "< ?"}, {"LE", "<= ?"}, {"GT", "> ?"}, {"GE", ">= ?"}, {"NE", "<> ?"}};
  std::string items = detail.substr(colon + 1, used - colon - 1), words;
  for (size_t at = 0; at < items.size();) {
    size_t end = std::min(items.find(',', at), items.size());
    std::string item = items.substr(at, end - at);
    at = end + 1;
    size_t sp = item.rfind(' ');
    std::string col = item.substr(0, sp), op = sp == std::string::npos ? "" : item.substr(sp + 1), said = op + "(" + col + ", ?)";
    for (const auto& [code, text] : kOps)
      if (op == code) said = col + " " + std::string(text);
    words += (words.empty() ? "" : ", ") + said;
  }
  return detail.substr(0, v) + (words.empty() ? " (no kernel filter: every row)" : " (kernel filter: " + words + ")");
}

}  // namespace

Session::Session(const std::string& path) : db_(open_connection(path)), filename_(path) { g_current = db_; }

Session::~Session() {
  g_current = nullptr;
  sqlite3_close(db_);
}

void Session::open(const std::string& path) {
  sqlite3* db = open_connection(path);
  g_current = nullptr;
  sqlite3_close(db_);
  db_ = db;
  filename_ = path;
  g_current = db_;
}

void Session::redirect(const std::string& path, bool once) {
  auto f = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*f) throw std::runtime_error("cannot open \"" + path + "\"");
  end_redirect();
  redirect_ = std::move(f);
  redirect_path_ = path;
  once_ = once;
}

void Session::end_redirect() {
  redirect_.reset();
  redirect_path_.clear();
  once_ = false;
}

void Session::command_done() {
  if (once_) end_redirect();
}

// As sqlite3 draws it: "QUERY PLAN", then the tree of EXPLAIN QUERY PLAN's
// rows (id, parent, detail), children under their parent.
void Session::print_plan(const Statement& st, std::ostream& out) {
  struct Step {
    int id, parent;
    std::string detail;
  };
  std::vector<Step> steps;  // a plan's size, not the data's
  try {
    Rows r = query(std::string("EXPLAIN QUERY PLAN ") + sqlite3_sql(st.get()));
    while (r.next())
      steps.push_back({static_cast<int>(std::get<int64_t>(r.row()[0])), static_cast<int>(std::get<int64_t>(r.row()[1])),
                       readable_plan(std::get<std::string>(r.row()[3]))});
  } catch (const std::exception&) {
    return;  // not a statement with a plan
  }
  if (steps.empty()) return;
  std::string text = "QUERY PLAN\n";
  auto draw = [&](auto& self, int parent, const std::string& prefix) -> void {
    std::vector<const Step*> kids;
    for (const auto& s : steps)
      if (s.parent == parent) kids.push_back(&s);
    for (size_t k = 0; k < kids.size(); ++k) {
      bool last = k + 1 == kids.size();
      text += prefix + (last ? "`--" : "|--") + kids[k]->detail + "\n";
      self(self, kids[k]->id, prefix + (last ? "   " : "|  "));
    }
  };
  draw(draw, 0, "");
  out << text;
}

Rows::Rows(Statement st) : st_(std::move(st)) {
  const int n = st_.columns();
  for (int i = 0; i < n; ++i) columns_.push_back(st_.name(i));
  row_.resize(columns_.size());
}

bool Rows::next() { return next(row_); }

bool Rows::next(std::vector<Value>& row) {
  if (!st_.step()) return false;
  sqlite3_stmt* st = st_.get();
  row.resize(columns_.size());
  for (size_t i = 0; i < row.size(); ++i) {
    // One column call, then the value's own accessors (no statement
    // bookkeeping each): the value is read here, on the connection's
    // thread, before the next step.
    sqlite3_value* cell = sqlite3_column_value(st, static_cast<int>(i));
    Value& v = row[i];
    switch (sqlite3_value_type(cell)) {
      case SQLITE_INTEGER: v = static_cast<int64_t>(sqlite3_value_int64(cell)); break;
      case SQLITE_FLOAT: v = sqlite3_value_double(cell); break;
      case SQLITE_NULL: v = std::monostate{}; break;
      case SQLITE_BLOB: {
        // Its bytes, written as each format writes a BLOB (hex, X'..').
        const auto* p = static_cast<const char*>(sqlite3_value_blob(cell));
        size_t len = static_cast<size_t>(sqlite3_value_bytes(cell));
        auto* b = std::get_if<Blob>(&v);
        if (!b) b = &v.emplace<Blob>();
        b->bytes.assign(p ? p : "", len);
        break;
      }
      default: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(cell));
        std::string_view text = p ? std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(cell))) : std::string_view();
        // Assigned into the string the previous row left, to reuse its buffer.
        if (auto* s = std::get_if<std::string>(&v)) s->assign(text);
        else v.emplace<std::string>(text);
      }
    }
  }
  return true;
}

Rows Session::query(const std::string& sql) {
  Statement st(db_, sql);
  if (!st) throw std::runtime_error("no statement in: " + sql);
  return Rows(std::move(st));
}

bool Session::run(const std::string& sql, std::ostream& to, std::ostream& err, size_t line) {
  std::ostream& out = this->out(to);
  std::string_view tail = sql.c_str();  // up to a NUL byte, where SQLite stops reading
  auto where = [&](const char* kind, std::string_view at) {
    if (!line) return std::string("Error: ");
    return fmt::format("{} error near line {}: ", kind, line_at(sql, static_cast<size_t>(at.data() - sql.data()), line));
  };
  while (!tail.empty()) {
    if (stop_requested()) {  // a Ctrl-C between two statements: the next one is not run
      err << where("Runtime", tail) << "interrupted\n";
      return false;
    }
    auto t0 = std::chrono::steady_clock::now();
    Statement st;
    std::string_view next;
    try {
      st = Statement(db_, tail, &next);
    } catch (const std::runtime_error& e) {
      err << where("Parse", tail) << e.what() << "\n";
      return false;
    }
    const std::string_view start = tail;
    tail = next;
    if (!st) continue;  // whitespace or a comment
    if (eqp && !sqlite3_stmt_isexplain(st.get())) print_plan(st, out);
    Rows rows(std::move(st));
    std::optional<ResultWriter> w;
    if (!rows.columns().empty()) w.emplace(out, rows.columns(), output);
    size_t n = 0;
    try {
      for (; rows.next(); ++n)
        if (w) w->row(rows.row());
    } catch (const std::runtime_error& e) {
      if (w) w->end(false);
      out.flush();
      err << where("Runtime", start) << e.what() << "\n";
      return false;
    }
    if (w) w->end(true);
    if (changes)
      out << "changes: " << sqlite3_changes64(db_) << "   total_changes: " << sqlite3_total_changes64(db_) << "\n";
    if (timer) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      err << "Run Time: " << ms << " ms (" << n << " rows)\n";
    }
  }
  out.flush();
  return true;
}

}  // namespace netsql::shell
