// The one sqlite3_module behind every netsql table. A TableDef supplies the
// schema and a Cursor; this file speaks SQLite: schema declaration,
// xBestIndex (pushdown, IN lists, estimates, colUsed), xFilter, and turning
// every C++ exception into an SQL error.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <new>

#include "vtabs/registry.h"
#include "vtabs/sqlite.h"
#include "vtabs/table.h"

namespace netsql::vt {

void Cell::integer(int64_t v) { sqlite3_result_int64(static_cast<sqlite3_context*>(ctx_), v); }
void Cell::real(double v) { sqlite3_result_double(static_cast<sqlite3_context*>(ctx_), v); }
void Cell::null() { sqlite3_result_null(static_cast<sqlite3_context*>(ctx_)); }
void Cell::text(std::string_view v) {
  sqlite3_result_text64(static_cast<sqlite3_context*>(ctx_), v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

std::optional<int64_t> Value::as_integer() const {
  switch (kind) {
    case Kind::Integer: return i;
    case Kind::Real:
      if (std::isfinite(r) && r == std::trunc(r) && std::fabs(r) < 9.2e18) return static_cast<int64_t>(r);
      return std::nullopt;
    case Kind::Text: {
      const char* b = s.c_str();
      char* end = nullptr;
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
};

struct VCursor : sqlite3_vtab_cursor {
  std::unique_ptr<Cursor> impl;
  sqlite3_int64 rowid = 0;
  kernel::Netns netns;     // the namespace this scan reads (caller's by default)
  bool gone = false;       // the netns path given no longer exists: no rows
  Value netns_value;       // the netns argument as given, echoed by the column
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

std::string schema_of(const TableDef& def) {
  std::string s = "CREATE TABLE x(";
  for (size_t i = 0; i < def.column_count(); ++i) {
    const Column& c = def.column(static_cast<int>(i));
    if (i) s += ", ";
    s += fmt::format("\"{}\" {}{}", c.name,
                     c.type == Type::Integer ? "INTEGER" : c.type == Type::Real ? "REAL" : "TEXT",
                     c.hidden ? " HIDDEN" : "");
  }
  return s + ")";
}

int x_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  const auto* def = static_cast<const TableDef*>(aux);
  int rc = sqlite3_declare_vtab(db, schema_of(*def).c_str());
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("%s: cannot declare schema", std::string(def->name).c_str());
    return rc;
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  auto* vt = static_cast<VTab*>(sqlite3_malloc(sizeof(VTab)));
  if (!vt) return SQLITE_NOMEM;
  *vt = VTab{};
  vt->def = def;
  *out = vt;
  return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

// sqlite3_vtab_in exists from SQLite 3.38; the loading program may be older.
bool vtab_in_available() { return sqlite3_libversion_number() >= 3038000; }

// idxStr, shown by EXPLAIN QUERY PLAN: "state IN,local_port EQ;used=0x3f".
int x_best_index(sqlite3_vtab* vt, sqlite3_index_info* info) {
  return guarded(vt, [&] {
    const TableDef& def = def_of(vt);
    double rows = def.rows;
    std::string plan;
    int argv = 0;
    bool netns_unusable = false;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& c = info->aConstraint[i];
      if (c.op != SQLITE_INDEX_CONSTRAINT_EQ || c.iColumn < 0) continue;
      if (!c.usable) {
        netns_unusable |= def.per_netns && c.iColumn == def.netns_index();
        continue;
      }
      const Column& col = def.column(c.iColumn);
      if (!(col.push & kPushEq)) continue;
      bool in = false;
      if ((col.push & kPushIn) == kPushIn && vtab_in_available() && sqlite3_vtab_in(info, i, -1)) {
        sqlite3_vtab_in(info, i, 1);
        in = true;
      }
      info->aConstraintUsage[i].argvIndex = ++argv;
      info->aConstraintUsage[i].omit = 0;  // SQLite re-checks: pushdown may over-select
      rows *= in ? std::min(1.0, col.selectivity * 3) : col.selectivity;
      if (!plan.empty()) plan += ',';
      plan += fmt::format("{} {}", col.name, in ? "IN" : "EQ");
    }
    rows = std::max(rows, 1.0);
    info->estimatedRows = static_cast<sqlite3_int64>(rows);
    info->estimatedCost = 100.0 + rows * 10.0;
    // A plan that cannot hand over a netns the query does constrain would
    // scan the caller's namespace instead: steer the planner away from it
    // (as series.c does for its required arguments).
    if (netns_unusable) info->estimatedCost = 1e15;
    info->idxNum = argv;
    info->idxStr = sqlite3_mprintf("%s;used=0x%llx", plan.c_str(), static_cast<unsigned long long>(info->colUsed));
    info->needToFreeIdxStr = 1;
    return SQLITE_OK;
  });
}

int x_open(sqlite3_vtab* vt, sqlite3_vtab_cursor** out) {
  return guarded(vt, [&] {
    auto cur = std::make_unique<VCursor>();
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

int x_filter(sqlite3_vtab_cursor* c, int, const char* idx, int argc, sqlite3_value** argv) {
  auto* cur = static_cast<VCursor*>(c);
  return guarded(c->pVtab, [&] {
    const TableDef& def = def_of(c->pVtab);
    Query q;
    cur->netns_value = Value{};
    std::string_view plan = idx ? idx : "";
    size_t semi = plan.rfind(';');
    if (semi != std::string_view::npos) {
      q.used = std::strtoull(std::string(plan.substr(semi + 6)).c_str(), nullptr, 16);
      plan = plan.substr(0, semi);
    }
    for (int a = 0; a < argc && !plan.empty(); ++a) {
      size_t comma = plan.find(',');
      std::string_view item = plan.substr(0, comma);
      plan = comma == std::string_view::npos ? std::string_view{} : plan.substr(comma + 1);
      size_t sp = item.rfind(' ');
      Constraint con{def.column_index(item.substr(0, sp)), {}};
      sqlite3_value* v = nullptr;
      int rc = item.substr(sp + 1) == "IN" ? sqlite3_vtab_in_first(argv[a], &v) : SQLITE_ERROR;
      if (rc == SQLITE_ERROR) {  // one value (or SQLite chose to loop over the IN list itself)
        con.values.push_back(value_of(argv[a]));
      } else {
        for (; rc == SQLITE_OK && v; rc = sqlite3_vtab_in_next(argv[a], &v)) con.values.push_back(value_of(v));
        if (rc != SQLITE_OK && rc != SQLITE_DONE) return rc;
      }
      if (def.per_netns && con.column == def.netns_index()) {
        cur->netns_value = con.values.front();
        continue;
      }
      q.constraints.push_back(std::move(con));
    }
    cur->rowid = 0;
    cur->netns = kernel::Netns();
    cur->gone = false;
    try {
      if (cur->netns_value.kind != Value::Kind::Null) cur->netns = open_netns(cur->netns_value);
    } catch (const kernel::NetnsGone&) {
      cur->gone = true;  // vanished since it was listed: it has no rows now
      return SQLITE_OK;
    }
    q.netns = &cur->netns;
    cur->impl->filter(q);
    return SQLITE_OK;
  });
}

int x_next(sqlite3_vtab_cursor* c) {
  auto* cur = static_cast<VCursor*>(c);
  return guarded(c->pVtab, [&] {
    cur->impl->next();
    ++cur->rowid;
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
    if (def_of(c->pVtab).per_netns && col == def_of(c->pVtab).netns_index()) {
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

int x_rowid(sqlite3_vtab_cursor* c, sqlite3_int64* out) {
  *out = static_cast<VCursor*>(c)->rowid;
  return SQLITE_OK;
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
    /* xFindFunction */ nullptr,
    /* xRename */ nullptr,
    /* xSavepoint */ nullptr,
    /* xRelease */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,
};

}  // namespace

int register_tables(sqlite3* db, char** err) {
  for (const TableDef* def : all_tables()) {
    int rc = sqlite3_create_module_v2(db, std::string(def->name).c_str(), &kModule, const_cast<TableDef*>(def), nullptr);
    if (rc != SQLITE_OK) {
      if (err) *err = sqlite3_mprintf("netsql: cannot register %s: %s", std::string(def->name).c_str(), sqlite3_errmsg(db));
      return rc;
    }
  }
  int rc = register_owner_source(db);
  if (rc != SQLITE_OK && err) *err = sqlite3_mprintf("netsql: cannot register netsql_owner_source: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace netsql::vt
