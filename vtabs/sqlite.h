// The SQLite API as a loadable extension sees it (calls go through the
// sqlite3_api table that sqlite3_netsql_init receives).
#pragma once
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
