#include "kernel/cidr.h"

#include <arpa/inet.h>

#include <string>

namespace netsql::kernel {

std::optional<HostAddr> parse_host(std::string_view s) {
  if (s.size() >= INET6_ADDRSTRLEN) return std::nullopt;  // longer than any address text
  std::string z(s);  // inet_pton wants a terminated string; an embedded NUL ends it early
  if (z.find('\0') != std::string::npos) return std::nullopt;
  HostAddr h;
  if (inet_pton(AF_INET, z.c_str(), h.bytes) == 1) {
    h.family = AF_INET;
    return h;
  }
  if (inet_pton(AF_INET6, z.c_str(), h.bytes) == 1) {
    h.family = AF_INET6;
    return h;
  }
  return std::nullopt;
}

std::optional<Prefix> parse_prefix(std::string_view s) {
  size_t slash = s.find('/');
  auto addr = parse_host(s.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned max = addr->family == AF_INET ? 32 : 128;
  Prefix p{*addr, static_cast<uint8_t>(max)};
  if (slash == std::string_view::npos) return p;
  std::string_view digits = s.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  unsigned len = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + static_cast<unsigned>(c - '0');
  }
  if (len > max) return std::nullopt;
  p.len = static_cast<uint8_t>(len);
  return p;
}

namespace {

// The first `bits` bits of a and b agree.
bool bits_equal(const uint8_t* a, const uint8_t* b, unsigned bits) {
  for (unsigned i = 0; i < bits / 8; ++i)
    if (a[i] != b[i]) return false;
  if (bits % 8 == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
  return ((a[bits / 8] ^ b[bits / 8]) & mask) == 0;
}

constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

bool prefix_contains(const Prefix& p, const HostAddr& a) {
  if (p.addr.family == a.family) return bits_equal(p.addr.bytes, a.bytes, p.len);
  if (p.addr.family == AF_INET && a.family == AF_INET6)
    return bits_equal(a.bytes, kV4Mapped, 96) && bits_equal(a.bytes + 12, p.addr.bytes, p.len);
  return false;
}

}  // namespace netsql::kernel
