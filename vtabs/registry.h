// Every table and SQL function netsql provides, in documentation order.
#pragma once

#include <span>
#include <string_view>

#include "vtabs/table.h"

struct sqlite3;
struct sqlite3_context;
struct sqlite3_value;

namespace netsql::vt {

std::span<const TableDef* const> all_tables();

// Registers every table on db (used by the loadable extension and by the
// netsql shell alike). Returns an SQLite result code.
int register_tables(sqlite3* db, char** err);
// Registers one table (a test's own declarations use this too).
int register_table(sqlite3* db, const TableDef& def, char** err);

// An SQL function the extension adds, as the docs show it.
struct FunctionDoc {
  std::string_view signature;  // "host_name(address)"
  std::string_view doc;
};
std::span<const FunctionDoc> all_functions();

// Registers every SQL function on db; an SQLite result code.
int register_functions(sqlite3* db, char** err);

// The implementation of the netsql SQL function `name` when a column may
// serve it as a constraint (Column::function), for xFindFunction; nullptr
// for any other name.
using SqlFunction = void (*)(sqlite3_context*, int, sqlite3_value**);
SqlFunction column_function(std::string_view name);
// The address functions of vtabs/cidr.cpp (in_subnet).
int register_cidr_functions(sqlite3* db);

// The netsql_owner_source() SQL function (vtabs/owner_source.cpp).
int register_owner_source(sqlite3* db);

}  // namespace netsql::vt
