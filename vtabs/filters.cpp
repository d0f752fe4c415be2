#include "vtabs/filters.h"

#include <sys/socket.h>

#include <algorithm>
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

std::optional<kernel::PortRange> port_range(const Query& q, int column) {
  int64_t lo = 0, hi = 65535;
  auto bound = [&](Op op) {
    return [&, op](const Value& v) {
      std::optional<int64_t> n;
      if (v.kind != Value::Kind::Text) n = v.as_integer();  // text: SQLite's affinity rules decide
      if (!n) return;
      // Compared as int64 without overflow: n + 1 and n - 1 only within the port range.
      switch (op) {
        case Op::Gt: lo = *n >= 65535 ? 65536 : std::max(lo, *n + 1); break;
        case Op::Ge: lo = std::max(lo, *n); break;
        case Op::Lt: hi = *n <= 0 ? -1 : std::min(hi, *n - 1); break;
        case Op::Le: hi = std::min(hi, *n); break;
        default: break;
      }
    };
  };
  for (Op op : {Op::Gt, Op::Ge, Op::Lt, Op::Le}) q.each(column, op, bound(op));
  if (lo > hi) return std::nullopt;
  return kernel::PortRange{static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

std::string prefix_error(std::string_view given) {
  return "in_subnet: malformed prefix '" + std::string(given) +
         "' (expected ADDRESS/LENGTH such as '10.0.0.0/8' or 'fd00::/8', LENGTH at most 32 for IPv4 and 128 for IPv6)";
}

std::optional<kernel::Prefix> prefix_argument(const Value& v) {
  if (v.kind == Value::Kind::Null) return std::nullopt;
  std::optional<kernel::Prefix> p;
  if (const std::string* t = v.as_text()) p = kernel::parse_prefix(*t);
  if (!p) throw Error(prefix_error(v.kind == Value::Kind::Integer ? std::to_string(v.i) : v.s));
  return p;
}

}  // namespace netsql::vt
