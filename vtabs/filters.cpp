#include "vtabs/filters.h"

#include <sys/socket.h>

#include <string>

namespace netsql::vt {

std::string_view family_name(int family) { return family == AF_INET6 ? "inet6" : family == AF_INET ? "inet" : "other"; }

std::vector<uint8_t> families(const Query& q, int family_column) {
  uint32_t mask = 3;
  if (const auto* v = q.values(family_column))
    mask = resolve_mask(
        *v,
        [](std::string_view n) -> std::optional<uint32_t> {
          if (n == "inet") return 1u;
          if (n == "inet6") return 2u;
          return std::nullopt;
        },
        [](std::string_view n) { return "invalid family '" + std::string(n) + "' (expected 'inet' or 'inet6')"; });
  std::vector<uint8_t> out;
  if (mask & 1) out.push_back(AF_INET);
  if (mask & 2) out.push_back(AF_INET6);
  return out;
}

std::vector<int64_t> integers_from(const std::vector<Value>& values, int64_t min, int64_t max) {
  std::vector<int64_t> out;
  for (const auto& v : values)
    if (auto i = v.as_integer(); i && *i >= min && *i <= max) out.push_back(*i);
  return out;
}

std::vector<uint16_t> ports_from(const std::vector<Value>& values) {
  std::vector<uint16_t> ports;
  for (int64_t p : integers_from(values, 0, 65535)) ports.push_back(static_cast<uint16_t>(p));
  return ports;
}

}  // namespace netsql::vt
