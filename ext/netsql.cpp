// The loadable extension's entry point. SQLite derives the name
// sqlite3_netsql_init from the file name (libnetsql.so in the build tree,
// netsql.so installed), so `.load` needs no second argument.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "vtabs/registry.h"

extern "C" __attribute__((visibility("default"))) int sqlite3_netsql_init(sqlite3* db, char** err,
                                                                            const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  int rc = netsql::vt::register_tables(db, err);
  return rc == SQLITE_OK ? netsql::vt::register_functions(db, err) : rc;
}
