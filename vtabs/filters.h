// Turning pushed constraint values into kernel request parameters, shared
// by the tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/cidr.h"
#include "kernel/sock_diag.h"
#include "vtabs/table.h"

namespace netsql::vt {

// 'inet' / 'inet6' for AF_INET / AF_INET6.
std::string_view family_name(int family);

// The address families a `family` column constraint allows (AF_INET,
// AF_INET6), both when unconstrained. Unknown text is an Error.
std::vector<uint8_t> families(const Query& q, int family_column);

// Ports from integer constraint values; values that can be no port drop out.
std::vector<uint16_t> ports_from(const std::vector<Value>& values);

// Non-negative integers from constraint values (ids, indexes, table ids).
std::vector<int64_t> integers_from(const std::vector<Value>& values, int64_t min, int64_t max);

// The ports `column` <, <=, >, >= constraints allow (all of them when
// there are none); nullopt when they allow none. A value that is no integer
// (text, a fraction, NULL) narrows nothing: SQLite compares it itself.
std::optional<kernel::PortRange> port_range(const Query& q, int column);

// The prefix of an in_subnet(address, prefix) constraint value; nullopt
// for NULL (in_subnet is NULL: no row matches). Anything else that is no
// prefix is an Error with prefix_error's text.
std::optional<kernel::Prefix> prefix_argument(const Value& v);
// in_subnet's error for a malformed prefix `given`.
std::string prefix_error(std::string_view given);

}  // namespace netsql::vt
