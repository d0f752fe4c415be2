// Turning pushed constraint values into kernel request parameters, shared
// by the tables.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

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

}  // namespace netsql::vt
