// Every table netsql provides, in documentation order.
#pragma once

#include <span>

#include "vtabs/table.h"

struct sqlite3;

namespace netsql::vt {

std::span<const TableDef* const> all_tables();

// Registers every table on db (used by the loadable extension and by the
// netsql shell alike). Returns an SQLite result code.
int register_tables(sqlite3* db, char** err);

// The netsql_owner_source() SQL function (vtabs/owner_source.cpp).
int register_owner_source(sqlite3* db);

}  // namespace netsql::vt
