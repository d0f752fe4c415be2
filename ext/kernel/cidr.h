// IP addresses and prefixes (CIDR blocks, "10.0.0.0/8") as bytes, and the
// prefix match inet_diag's bytecode host conditions perform, so that SQL
// can ask the same question the kernel answers. No SQLite here.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace netsql::kernel {

// An address: 4 bytes (IPv4) or 16 (IPv6), network order.
struct HostAddr {
  uint8_t family = 0;  // AF_INET or AF_INET6
  uint8_t bytes[16] = {};
};
// The address text `s` (any form inet_pton takes) as a HostAddr; nullopt
// if it is not an address.
std::optional<HostAddr> parse_host(std::string_view s);

// The addresses whose first `len` bits equal those of `addr`.
struct Prefix {
  HostAddr addr;
  uint8_t len = 0;  // 0..32 for IPv4, 0..128 for IPv6
};
// "ADDRESS/LENGTH" (length in decimal digits, 0-32 for IPv4, 0-128 for
// IPv6), or a bare address (all its bits); host bits past the length are
// ignored, as ss and the kernel ignore them. nullopt for anything else.
std::optional<Prefix> parse_prefix(std::string_view s);

// Whether `a` lies in `p`, exactly as the kernel's INET_DIAG_BC_S_COND /
// D_COND test decides it: families must agree, except that an IPv4 prefix
// also matches IPv4-mapped IPv6 addresses (::ffff:a.b.c.d); an IPv6 prefix
// never matches an IPv4 address.
bool prefix_contains(const Prefix& p, const HostAddr& a);

}  // namespace netsql::kernel
