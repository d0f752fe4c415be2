// The one sqlite3_module behind every netsql table. A TableDef supplies the
// schema and a Cursor; this file speaks SQLite: schema declaration,
// xBestIndex (pushdown, IN lists, ranges, functions, estimates, colUsed),
// xFilter, xFindFunction, and turning every C++ exception into an SQL error.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <new>
#include <stdexcept>
#include <vector>

#include "vtabs/registry.h"
#include "vtabs/sqlite.h"
#include "vtabs/table.h"

namespace netsql::vt {

void Cell::integer(int64_t v) {
  if (hash_) fold('i', &v, sizeof v);
  else sqlite3_result_int64(static_cast<sqlite3_context*>(ctx_), v);
}
void Cell::real(double v) {
  if (hash_) fold('r', &v, sizeof v);
  else sqlite3_result_double(static_cast<sqlite3_context*>(ctx_), v);
}
void Cell::null() {
  if (hash_) fold('n', nullptr, 0);
  else sqlite3_result_null(static_cast<sqlite3_context*>(ctx_));
}
void Cell::text(std::string_view v) {
  if (hash_) fold('t', v.data(), v.size());
  else sqlite3_result_text64(static_cast<sqlite3_context*>(ctx_), v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
// FNV-1a over a type tag, the value's length and its bytes, so that NULL, 0
// and '' differ and ('ab', 'c') differs from ('a', 'bc').
void Cell::fold(uint8_t tag, const void* data, size_t size) {
  auto byte = [this](uint8_t b) { *hash_ = (*hash_ ^ b) * 0x100000001b3; };
  byte(tag);
  for (size_t i = 0; i < sizeof size; ++i) byte(static_cast<uint8_t>(size >> (8 * i)));
  for (size_t i = 0; i < size; ++i) byte(static_cast<const uint8_t*>(data)[i]);
}

void warn(const std::string& message) { sqlite3_log(SQLITE_WARNING, "%s", message.c_str()); }

std::optional<int64_t> Value::as_integer() const {
  switch (kind) {
    case Kind::Integer: return i;
    case Kind::Real:
      if (std::isfinite(r) && r == std::trunc(r) && std::fabs(r) < 9.2e18) return static_cast<int64_t>(r);
      return std::nullopt;
    case Kind::Text: {
      const char* b = s.c_str();
      char* end = nullptr;
      // Integer text exactly (past 2^53 a double would round it), then
      // anything else SQLite reads as a number ('1e3', '80.0').
      errno = 0;
      long long whole = std::strtoll(b, &end, 10);
      const char* rest = end;
      while (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r') ++rest;
      if (end != b && !*rest && errno == 0) return whole;
      double d = std::strtod(b, &end);
      if (end == b || s.find_first_of("xXnN") != std::string::npos) return std::nullopt;
      while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') ++end;
      if (*end) return std::nullopt;
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

namespace {

struct VTab : sqlite3_vtab {
  const TableDef* def;
  sqlite3* db;  // for Query::interrupted
};

// Query::interrupted: whether sqlite3_interrupt() was called on the
// connection while the statement reading the table runs. SQLite 3.41 says
// so with sqlite3_is_interrupted. Before it (Debian 12 has 3.40), the flag
// sqlite3_interrupt sets stays set while any statement of the connection
// is active (sqlite3_step clears it only when none is) and a statement
// checks it as it starts, so a trivial statement stepped on the same
// connection from inside the running one fails with SQLITE_INTERRUPT
// exactly when that one was interrupted.
class InterruptProbe {
 public:
  explicit InterruptProbe(sqlite3* db) : db_(db) {}

  bool operator()() const {
#if SQLITE_VERSION_NUMBER >= 3041000
    if (sqlite3_libversion_number() >= 3041000) return sqlite3_is_interrupted(db_) != 0;
#endif
    // Prepared, stepped and finalized at each check (every 100 ms, a few
    // microseconds): a statement kept between checks would be the host's
    // to see with sqlite3_next_stmt and finalize before ours closes.
    sqlite3_stmt* probe = nullptr;
    int rc = sqlite3_prepare_v2(db_, "SELECT 1", -1, &probe, nullptr);  // the parser checks the flag too
    if (rc == SQLITE_OK) rc = sqlite3_step(probe);
    sqlite3_finalize(probe);
    return rc == SQLITE_INTERRUPT;
  }

 private:
  sqlite3* db_;
};

struct VCursor : sqlite3_vtab_cursor {
  explicit VCursor(sqlite3* db) : interrupted(db) {}
  std::unique_ptr<Cursor> impl;
  InterruptProbe interrupted;
  kernel::Netns netns;     // the namespace this scan reads (caller's by default)
  bool gone = false;       // the namespace asked for has vanished (kernel::NetnsGone): no rows
  Value netns_value;       // the Role::Namespace argument as given, echoed by its column
};

const TableDef& def_of(sqlite3_vtab* vt) { return *static_cast<VTab*>(vt)->def; }

void set_error(sqlite3_vtab* vt, const std::string& msg) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = sqlite3_mprintf("%s", msg.c_str());
}

// Runs f; any exception becomes an SQL error on vt naming the table.
template <class F>
int guarded(sqlite3_vtab* vt, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (const std::exception& e) {
    set_error(vt, fmt::format("{}: {}", def_of(vt).name, e.what()));
  } catch (...) {
    set_error(vt, fmt::format("{}: unknown error", def_of(vt).name));
  }
  return SQLITE_ERROR;
}

// Declared at every connect (a one-shot query's first use of a table), so
// built by plain appends: fmt::format per column cost more than SQLite's
// parse of the result.
std::string schema_of(const TableDef& def) {
  std::string s;
  s.reserve(16 + def.column_count() * 40);
  s += "CREATE TABLE x(";
  for (size_t i = 0; i < def.column_count(); ++i) {
    const Column& c = def.column(static_cast<int>(i));
    if (i) s += ',';
    s += '"';
    s += c.name;
    s += c.type == Type::Integer ? "\" INTEGER" : c.type == Type::Real ? "\" REAL" : "\" TEXT";
    if (c.hidden) s += " HIDDEN";
  }
  s += ')';
  return s;
}

int x_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  const auto* def = static_cast<const TableDef*>(aux);
  int rc = sqlite3_declare_vtab(db, schema_of(*def).c_str());
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("%s: cannot declare schema", std::string(def->name).c_str());
    return rc;
  }
  // DIRECTONLY: a table reads kernel state (and enters other namespaces)
  // with the privileges of the program that loaded netsql; a view or trigger
  // in a database file someone else wrote must not do that on its behalf.
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  auto* vt = static_cast<VTab*>(sqlite3_malloc(sizeof(VTab)));
  if (!vt) return SQLITE_NOMEM;
  *vt = VTab{};
  vt->def = def;
  vt->db = db;
  *out = vt;
  return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

// sqlite3_vtab_in exists from SQLite 3.38; the loading program may be older.
bool vtab_in_available() { return sqlite3_libversion_number() >= 3038000; }

// How an operator on the namespace column reads in an error message.
std::string_view op_text(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_GT: return ">";
    case SQLITE_INDEX_CONSTRAINT_LE: return "<=";
    case SQLITE_INDEX_CONSTRAINT_LT: return "<";
    case SQLITE_INDEX_CONSTRAINT_GE: return ">=";
    case SQLITE_INDEX_CONSTRAINT_MATCH: return "MATCH";
    case SQLITE_INDEX_CONSTRAINT_LIKE: return "LIKE";
    case SQLITE_INDEX_CONSTRAINT_GLOB: return "GLOB";
    case SQLITE_INDEX_CONSTRAINT_REGEXP: return "REGEXP";
    case SQLITE_INDEX_CONSTRAINT_NE: return "!=";
    case SQLITE_INDEX_CONSTRAINT_ISNOT: return "IS NOT";
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return "IS NOT NULL";
    default: return "with a function";
  }
}

bool is_range(unsigned char op) {
  return op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_GE || op == SQLITE_INDEX_CONSTRAINT_LT ||
         op == SQLITE_INDEX_CONSTRAINT_LE;
}

// The SQLite operators a column takes with kPushRange and kPushNe, as plan
// items name them.
std::optional<std::string_view> pushed_op_name(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_LT: return "LT";
    case SQLITE_INDEX_CONSTRAINT_LE: return "LE";
    case SQLITE_INDEX_CONSTRAINT_GT: return "GT";
    case SQLITE_INDEX_CONSTRAINT_GE: return "GE";
    case SQLITE_INDEX_CONSTRAINT_NE: return "NE";
    default: return std::nullopt;
  }
}

// The column whose Column::function x_find_function answered with `op`
// (SQLITE_INDEX_CONSTRAINT_FUNCTION + its index), or nullptr.
const Column* function_column(const TableDef& def, unsigned char op) {
  if (op < SQLITE_INDEX_CONSTRAINT_FUNCTION) return nullptr;
  size_t c = op - SQLITE_INDEX_CONSTRAINT_FUNCTION;
  return c < def.columns.size() && !def.columns[c].function.empty() ? &def.columns[c] : nullptr;
}

// The plan xBestIndex hands to xFilter, as idxStr (EXPLAIN QUERY PLAN shows
// it, e.g. "state IN,local_port EQ,local_port GT;used=0x3f"):
//
//   idxStr := [item {"," item}] ";used=0x" colUsed-in-hex
//   item   := column-name " " ("EQ" | "IS" | "IN" | "LT" | "LE" | "GT" | "GE" | "NE" | function-name)
//
// Item k is argv[k] of xFilter: EQ and IS one value (column = v, column IS
// v), IN the whole list of column IN (...), read with sqlite3_vtab_in_first/
// next; LT, LE, GT, GE and NE one value (column < v, ...); a function name
// (the column's Column::function) the second argument of the WHERE term
// function(column, v). idxNum is the number of items. At most one EQ, IS or
// IN item per column, any number of the others (BETWEEN gives GE and LE).
// omit is never set, so SQLite re-checks every constraint and a cursor may
// over-select. The column with Role::Namespace takes EQ or IS and is served
// here; the others reach the cursor as Query::constraints.
int x_best_index(sqlite3_vtab* vt, sqlite3_index_info* info) {
  return guarded(vt, [&] {
    const TableDef& def = def_of(vt);
    double rows = def.rows;
    std::string plan;
    int argv = 0;
    std::vector<bool> pushed(def.column_count());  // an EQ, IS or IN item for the column
    bool ns_wanted = false, ns_pushed = false;  // an = or IS on the namespace column; handed over
    const Column* ns_refused = nullptr;         // another operator on it
    unsigned char ns_refused_op = 0;
    auto push = [&](int i, const Column& col, std::string_view op, double selectivity) {
      info->aConstraintUsage[i].argvIndex = ++argv;
      info->aConstraintUsage[i].omit = 0;  // SQLite re-checks: pushdown may over-select
      rows *= selectivity;
      if (!plan.empty()) plan += ',';
      plan += fmt::format("{} {}", col.name, op);
    };
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& c = info->aConstraint[i];
      if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT || c.op == SQLITE_INDEX_CONSTRAINT_OFFSET) continue;
      if (c.iColumn < 0 || static_cast<size_t>(c.iColumn) >= def.column_count()) continue;  // rowid
      const Column& col = def.column(c.iColumn);
      bool first = !pushed[static_cast<size_t>(c.iColumn)];
      if (col.role == Role::Namespace) {
        if (c.op == SQLITE_INDEX_CONSTRAINT_EQ || c.op == SQLITE_INDEX_CONSTRAINT_IS) {
          ns_wanted = true;
          if (c.usable && first) {
            push(i, col, c.op == SQLITE_INDEX_CONSTRAINT_IS ? "IS" : "EQ", 1.0);
            pushed[static_cast<size_t>(c.iColumn)] = true;
            ns_pushed = true;
          }
        } else if (c.op != SQLITE_INDEX_CONSTRAINT_ISNULL) {  // IS NULL: the caller's, as when unconstrained
          // Name the operator the user wrote: LIKE and GLOB also show as
          // the range SQLite derives from their prefix.
          if (!ns_refused || (is_range(ns_refused_op) && !is_range(c.op))) ns_refused_op = c.op;
          ns_refused = &col;
        }
        continue;
      }
      if (!c.usable) continue;
      if (auto name = pushed_op_name(c.op)) {
        if (col.push & (c.op == SQLITE_INDEX_CONSTRAINT_NE ? kPushNe : kPushRange))
          push(i, col, *name, c.op == SQLITE_INDEX_CONSTRAINT_NE ? 0.9 : 0.25);
        continue;
      }
      if (const Column* f = function_column(def, c.op)) {
        if (col.function == f->function) push(i, col, col.function, 0.25);
        continue;
      }
      if (c.op != SQLITE_INDEX_CONSTRAINT_EQ || !first || !(col.push & kPushEq)) continue;
      pushed[static_cast<size_t>(c.iColumn)] = true;
      if ((col.push & kPushIn) == kPushIn && vtab_in_available() && sqlite3_vtab_in(info, i, -1)) {
        sqlite3_vtab_in(info, i, 1);
        push(i, col, "IN", std::min(1.0, col.selectivity * 3));
      } else {
        push(i, col, "EQ", col.selectivity);
      }
    }
    // Only a value can choose a namespace; any other test on the column
    // would read the caller's namespace, whose rows echo NULL, and match none.
    if (ns_refused && !ns_wanted)
      throw Error(fmt::format("{0} {1} cannot choose a network namespace: use {0} = '...' (or {0} IS '...', "
                              "{0} IN (...)) or the table argument {2}('...')",
                              ns_refused->name, op_text(ns_refused_op), def.name));
    // A namespace wanted from a value this plan cannot hand over (a join
    // column of a table not yet read): like series.c with its start, stop
    // and step arguments, refuse the plan itself (SQLITE_CONSTRAINT), so
    // SQLite only picks plans that read the namespace asked for, and fails
    // the statement ("no query solution") when no such plan exists.
    if (ns_wanted && !ns_pushed) return SQLITE_CONSTRAINT;
    // A required argument: a plan that cannot hand it over is refused (the
    // planner then puts this table inside a join), a query that never
    // gives it is an error.
    for (size_t c = 0; c < def.column_count(); ++c) {
      const Column& col = def.column(static_cast<int>(c));
      if ((col.push & kRequired) != kRequired) continue;
      bool given = false, usable = false;
      for (int i = 0; i < info->nConstraint; ++i) {
        const auto& k = info->aConstraint[i];
        if (k.iColumn != static_cast<int>(c) || k.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
        given = true;
        usable |= k.usable != 0;
      }
      if (usable) continue;
      if (given) return SQLITE_CONSTRAINT;
      throw Error(fmt::format("{} is required: WHERE {} = ... (or IN), or as a table argument", col.name, col.name));
    }
    rows = std::max(rows, 1.0);
    info->estimatedRows = static_cast<sqlite3_int64>(rows);
    info->estimatedCost = 100.0 + rows * 10.0;
    info->idxNum = argv;
    info->idxStr = sqlite3_mprintf("%s;used=0x%llx", plan.c_str(), static_cast<unsigned long long>(info->colUsed));
    info->needToFreeIdxStr = 1;
    return info->idxStr ? SQLITE_OK : SQLITE_NOMEM;
  });
}

int x_open(sqlite3_vtab* vt, sqlite3_vtab_cursor** out) {
  return guarded(vt, [&] {
    auto cur = std::make_unique<VCursor>(static_cast<VTab*>(vt)->db);
    cur->impl = def_of(vt).open();
    *out = cur.release();
    return SQLITE_OK;
  });
}

int x_close(sqlite3_vtab_cursor* c) {
  delete static_cast<VCursor*>(c);
  return SQLITE_OK;
}

Value value_of(sqlite3_value* v) {
  Value out;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: out.kind = Value::Kind::Integer; out.i = sqlite3_value_int64(v); break;
    case SQLITE_FLOAT: out.kind = Value::Kind::Real; out.r = sqlite3_value_double(v); break;
    case SQLITE_TEXT:
      out.kind = Value::Kind::Text;
      out.s.assign(reinterpret_cast<const char*>(sqlite3_value_text(v)), static_cast<size_t>(sqlite3_value_bytes(v)));
      break;
    case SQLITE_BLOB: out.kind = Value::Kind::Blob; break;
    default: break;
  }
  return out;
}

// The namespace a netns argument names. A value of another type (a real,
// a blob) can name none.
kernel::Netns open_netns(const Value& v) {
  if (v.kind == Value::Kind::Integer) return kernel::Netns::open(std::to_string(v.i));
  if (v.kind == Value::Kind::Text) return kernel::Netns::open(v.s);
  throw Error("netns must be a namespace name, a path or a pid");
}

// The operator of a plan item on `col`.
Op plan_op(const Column& col, std::string_view op) {
  if (op == "EQ" || op == "IS" || op == "IN") return Op::Eq;
  if (op == "LT") return Op::Lt;
  if (op == "LE") return Op::Le;
  if (op == "GT") return Op::Gt;
  if (op == "GE") return Op::Ge;
  if (op == "NE") return Op::Ne;
  if (op == col.function) return Op::Function;
  throw std::logic_error(fmt::format("bad plan: {} {}", col.name, op));
}

// Reads the plan (grammar above x_best_index) back into a Query.
int x_filter(sqlite3_vtab_cursor* c, int, const char* idx, int argc, sqlite3_value** argv) {
  auto* cur = static_cast<VCursor*>(c);
  return guarded(c->pVtab, [&] {
    const TableDef& def = def_of(c->pVtab);
    Query q;
    cur->netns_value = Value{};
    std::string_view plan = idx ? idx : "";
    size_t semi = plan.rfind(";used=0x");
    if (semi != std::string_view::npos) {
      q.used = std::strtoull(std::string(plan.substr(semi + 8)).c_str(), nullptr, 16);
      plan = plan.substr(0, semi);
    }
    for (int a = 0; a < argc && !plan.empty(); ++a) {
      size_t comma = plan.find(',');
      std::string_view item = plan.substr(0, comma);
      plan = comma == std::string_view::npos ? std::string_view{} : plan.substr(comma + 1);
      size_t sp = item.rfind(' ');
      Constraint con{def.column_index(item.substr(0, sp)), {}};
      if (con.column < 0 || sp == std::string_view::npos) throw std::logic_error("bad plan: " + std::string(item));
      std::string_view op = item.substr(sp + 1);
      con.op = plan_op(def.column(con.column), op);
      sqlite3_value* v = nullptr;
      int rc = op == "IN" ? sqlite3_vtab_in_first(argv[a], &v) : SQLITE_ERROR;
      if (rc == SQLITE_ERROR) {  // one value (or SQLite chose to loop over the IN list itself)
        con.values.push_back(value_of(argv[a]));
      } else {
        for (; rc == SQLITE_OK && v; rc = sqlite3_vtab_in_next(argv[a], &v)) con.values.push_back(value_of(v));
        if (rc != SQLITE_OK && rc != SQLITE_DONE) return rc;
      }
      if (def.column(con.column).role == Role::Namespace) cur->netns_value = std::move(con.values.front());
      else q.constraints.push_back(std::move(con));
    }
    cur->netns = kernel::Netns();
    cur->gone = false;
    try {
      if (cur->netns_value.kind != Value::Kind::Null) cur->netns = open_netns(cur->netns_value);
    } catch (const kernel::NetnsGone&) {
      cur->gone = true;  // vanished since it was listed: it has no rows now
      return SQLITE_OK;
    }
    q.netns = &cur->netns;
    q.interrupted = [probe = &cur->interrupted] { return (*probe)(); };
    cur->impl->filter(q);
#ifndef NDEBUG
    // Pushdown that a cursor ignores costs a kernel dump for nothing (and
    // usually means a cursor lost track of a column): a cursor that has
    // rows must have asked for every pushed column.
    if (!cur->impl->eof())
      for (const auto& con : q.constraints)
        if (!con.read)
          throw std::logic_error(fmt::format("pushed constraint on {} not read by the cursor", def.column(con.column).name));
#endif
    return SQLITE_OK;
  });
}

int x_next(sqlite3_vtab_cursor* c) {
  auto* cur = static_cast<VCursor*>(c);
  return guarded(c->pVtab, [&] {
    cur->impl->next();
    return SQLITE_OK;
  });
}

int x_eof(sqlite3_vtab_cursor* c) {
  auto* cur = static_cast<VCursor*>(c);
  return cur->gone || cur->impl->eof();
}

int x_column(sqlite3_vtab_cursor* c, sqlite3_context* ctx, int col) {
  auto* cur = static_cast<VCursor*>(c);
  return guarded(c->pVtab, [&] {
    Cell cell(ctx);
    if (def_of(c->pVtab).column(col).role == Role::Namespace) {  // the argument, echoed
      const Value& v = cur->netns_value;
      if (v.kind == Value::Kind::Integer) cell.integer(v.i);
      else if (v.kind == Value::Kind::Text) cell.text(v.s);
      else cell.null();
      return SQLITE_OK;
    }
    cur->impl->column(col, cell);
    return SQLITE_OK;
  });
}

// A function f(column, value) that a column of the table serves
// (Column::function): SQLite then offers a WHERE term f(column, value) to
// x_best_index as a constraint whose op is what this returns
// (SQLITE_INDEX_CONSTRAINT_FUNCTION + the first such column's index; see
// function_column). The function itself stays netsql's, so SQLite still
// evaluates it on every row.
int x_find_function(sqlite3_vtab* vt, int args, const char* name, void (**fn)(sqlite3_context*, int, sqlite3_value**),
                    void** user_data) {
  if (args != 2 || !name) return 0;
  const TableDef& def = def_of(vt);
  for (size_t c = 0; c < def.columns.size() && SQLITE_INDEX_CONSTRAINT_FUNCTION + c <= 255; ++c) {
    std::string_view f = def.columns[c].function;
    if (f.empty() || f.size() != std::strlen(name) || sqlite3_strnicmp(name, f.data(), static_cast<int>(f.size())) != 0)
      continue;
    SqlFunction impl = column_function(f);
    if (!impl) return 0;
    *fn = impl;
    *user_data = nullptr;
    return SQLITE_INDEX_CONSTRAINT_FUNCTION + static_cast<int>(c);
  }
  return 0;
}

int x_rowid(sqlite3_vtab_cursor* c, sqlite3_int64* out) {
  auto* cur = static_cast<VCursor*>(c);
  return guarded(c->pVtab, [&] {
    if (auto id = cur->impl->identity()) {
      *out = *id;
      return SQLITE_OK;
    }
    // A hash of the identity columns, or of all of them (see key()).
    const TableDef& def = def_of(c->pVtab);
    bool marked = std::any_of(def.columns.begin(), def.columns.end(), [](const Column& col) { return col.identity; });
    uint64_t hash = 0xcbf29ce484222325;
    Cell cell(&hash);
    for (size_t i = 0; i < def.columns.size(); ++i)
      if (def.columns[i].identity || !marked) cur->impl->column(static_cast<int>(i), cell);
    *out = static_cast<sqlite3_int64>(hash);
    return SQLITE_OK;
  });
}

// Eponymous-only (no xCreate) and read-only (no xUpdate).
const sqlite3_module kModule = {
    /* iVersion */ 2,
    /* xCreate */ nullptr,
    x_connect,
    x_best_index,
    x_disconnect,
    /* xDestroy */ x_disconnect,
    x_open,
    x_close,
    x_filter,
    x_next,
    x_eof,
    x_column,
    x_rowid,
    /* xUpdate */ nullptr,
    /* xBegin */ nullptr,
    /* xSync */ nullptr,
    /* xCommit */ nullptr,
    /* xRollback */ nullptr,
    x_find_function,
    /* xRename */ nullptr,
    /* xSavepoint */ nullptr,
    /* xRelease */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,
};

}  // namespace

int register_table(sqlite3* db, const TableDef& def, char** err) {
  int rc = sqlite3_create_module_v2(db, std::string(def.name).c_str(), &kModule, const_cast<TableDef*>(&def), nullptr);
  if (rc != SQLITE_OK && err)
    *err = sqlite3_mprintf("netsql: cannot register %s: %s", std::string(def.name).c_str(), sqlite3_errmsg(db));
  return rc;
}

int register_tables(sqlite3* db, char** err) {
  for (const TableDef* def : all_tables())
    if (int rc = register_table(db, *def, err); rc != SQLITE_OK) return rc;
  int rc = register_owner_source(db);
  if (rc != SQLITE_OK && err) *err = sqlite3_mprintf("netsql: cannot register netsql_owner_source: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace netsql::vt
