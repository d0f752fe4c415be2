// .import FILE TABLE: CSV (RFC 4180: quoted fields may hold commas, quotes
// doubled, line breaks) into a table, one record at a time in one
// transaction. When TABLE does not exist it is created with the first
// record as its column names (TEXT columns); when it does, every record is
// data. A record with too few fields gets NULLs, one with too many loses
// the extras, each with a warning naming FILE:LINE, as sqlite3 does.
#pragma once

#include <iosfwd>
#include <string>

#include "session.h"

namespace netsql::shell {

// The number of rows inserted. Throws std::runtime_error on a file that
// cannot be read, a record longer than kMaxStatementBytes, or an SQL error
// (nothing of this import is kept then).
size_t import_csv(Session& s, const std::string& path, const std::string& table, std::ostream& warn);

}  // namespace netsql::shell
