// osquery's table names as TEMP views over netsql's tables
// (vtabs/osquery_compat.cpp).
#pragma once

struct sqlite3;  // no SQLite header: the shell includes this too

namespace netsql::vt {

// The SQL that creates the views (CREATE TEMP VIEW IF NOT EXISTS ...).
const char* osquery_compat_sql();

// Registers netsql_osquery_compat(), which runs that SQL on its connection.
int register_osquery_compat(sqlite3* db);

}  // namespace netsql::vt
