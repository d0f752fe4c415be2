// User names, from the system's user database (getpwuid_r: /etc/passwd or
// whatever NSS is configured to ask). Part of the kernel layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace netsql::kernel {

// The name of a user id; nullopt when the database knows none.
std::optional<std::string> user_name(uint32_t uid);

}  // namespace netsql::kernel
