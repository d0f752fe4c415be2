#include "kernel/users.h"

#include <pwd.h>

#include <cerrno>
#include <vector>

namespace netsql::kernel {

std::optional<std::string> user_name(uint32_t uid) {
  std::vector<char> buf(4096);
  for (;;) {
    passwd pw{}, *found = nullptr;
    int err = getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
    if (err == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (err != 0 || !found) return std::nullopt;
    return std::string(found->pw_name);
  }
}

}  // namespace netsql::kernel
