// Names iproute2 and netstat use for rtnetlink numbers: route tables,
// protocols, scopes, types; interface flags and operstate; neighbour
// states; address flags. Parsers for /etc/iproute2 files work on text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netsql::kernel {

std::string route_protocol_name(unsigned proto);
std::string route_scope_name(unsigned scope);
std::string route_type_name(unsigned type);
std::string operstate_name(unsigned state);
std::string neighbor_state_name(unsigned nud);
std::string address_flags_text(uint32_t ifa_flags, int family);

// netstat -i's flag letters ("BMRU") and ifconfig's list
// ("UP,BROADCAST,RUNNING,MULTICAST") for IFF_* flags.
std::string netstat_link_flags(unsigned iff);
std::string ifconfig_link_flags(unsigned iff);

// "id name" lines of an rt_tables file; '#' comments and malformed lines
// are skipped.
std::map<uint32_t, std::string> parse_rt_tables(std::string_view text);

// Route table names. The built-in ids are named without reading a file
// (unspec 0, default 253, main 254, local 255); any other id from
// rt_tables and rt_tables.d/*.conf in /usr/share/iproute2 (the defaults),
// /usr/lib/iproute2 and /etc/iproute2, later ones overriding earlier, read
// when the first such id is asked for (kept per query, so edits show up at
// the next one); the number as text when no file names it.
class RouteTables {
 public:
  RouteTables() : RouteTables({"/usr/share/iproute2", "/usr/lib/iproute2", "/etc/iproute2"}) {}
  explicit RouteTables(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}
  std::string name(uint32_t id);

 private:
  std::vector<std::string> dirs_;
  std::optional<std::map<uint32_t, std::string>> names_;  // the files', once read
};

// "aa:bb:cc:dd:ee:ff" for any link-layer address length.
std::string mac_text(const uint8_t* p, size_t n);

}  // namespace netsql::kernel
