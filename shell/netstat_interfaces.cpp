// netstat -i: the interface table, and with -e ifconfig-style blocks, as
// net-tools prints them (interfaces by name; -a: down ones too).
#include <fmt/format.h>

#include <map>

#include "netstat.h"

namespace netsql::shell {

namespace {

// netstat's order: by name, a trailing number as a number (eth2 before eth10).
constexpr const char* kByName = " ORDER BY rtrim(name, '0123456789'), length(name), name";

// The IPv4 address ifconfig shows (the interface's first), and every IPv6 one.
constexpr const char* kAddresses =
    "(SELECT address || ' ' || coalesce(netmask, '') || ' ' || coalesce(broadcast, '0.0.0.0') FROM interface_addresses a "
    "WHERE a.interface = i.name AND a.family = 'inet' LIMIT 1) AS inet, "
    "(SELECT group_concat(address || ' ' || prefix_len || ' ' || scope, ',') FROM interface_addresses a "
    "WHERE a.interface = i.name AND a.family = 'inet6') AS inet6";

}  // namespace

NetstatSection interface_section(const NetstatOptions& o) {
  std::string where = o.all ? "" : " WHERE instr(flags, 'U') > 0";
  if (o.extend)
    return {NetstatKind::InterfaceBlocks, "Kernel Interface table",
            fmt::format("SELECT name, flags_list, mtu, mac, txqueuelen, rx_packets, rx_bytes, rx_errors, "
                        "rx_dropped + rx_missed AS rx_dropped, rx_fifo_errors, "
                        "rx_frame_errors + rx_crc_errors + rx_length_errors + rx_over_errors AS rx_frame, "
                        "tx_packets, tx_bytes, tx_errors, tx_dropped, tx_fifo_errors, tx_carrier_errors, collisions, {} "
                        "FROM interfaces i{}{}",
                        kAddresses, where, kByName),
            ""};
  return {NetstatKind::Interfaces, "Kernel Interface table",
          std::string("SELECT name AS \"Iface\", mtu AS \"MTU\", rx_packets AS \"RX-OK\", rx_errors AS \"RX-ERR\", "
                      "rx_dropped + rx_missed AS \"RX-DRP\", rx_fifo_errors AS \"RX-OVR\", tx_packets AS \"TX-OK\", "
                      "tx_errors AS \"TX-ERR\", tx_dropped AS \"TX-DRP\", tx_fifo_errors AS \"TX-OVR\", flags AS \"Flg\" "
                      "FROM interfaces") +
              where + kByName,
          ""};
}

namespace {

// SIOCGIFFLAGS's number for ifconfig's flag names.
unsigned flag_bits(const std::string& names) {
  static const std::map<std::string, unsigned> kBits = {
      {"UP", 0x1},          {"BROADCAST", 0x2}, {"DEBUG", 0x4},    {"LOOPBACK", 0x8},    {"POINTOPOINT", 0x10},
      {"NOTRAILERS", 0x20}, {"RUNNING", 0x40},  {"NOARP", 0x80},   {"PROMISC", 0x100},   {"ALLMULTI", 0x200},
      {"MASTER", 0x400},    {"SLAVE", 0x800},   {"MULTICAST", 0x1000}, {"DYNAMIC", 0x8000}};
  unsigned bits = 0;
  size_t at = 0;
  while (at <= names.size()) {
    size_t comma = names.find(',', at);
    if (auto it = kBits.find(names.substr(at, comma - at)); it != kBits.end()) bits |= it->second;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return bits;
}

// "176 (176.0 B)", "54464657 (51.9 MiB)": ifconfig's byte counts.
std::string bytes(uint64_t n) {
  static constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {1ull << 50, "PiB"}, {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  uint64_t size = 1;
  const char* unit = "B";
  for (const auto& [s, name] : kUnits)
    if (n > s) {
      size = s;
      unit = name;
      break;
    }
  const uint64_t tenths = n / size * 10 + n % size * 10 / size;  // n * 10 / size, without n * 10 (it may not fit)
  return fmt::format("{} ({}.{} {})", n, tenths / 10, tenths % 10, unit);
}

// The scope ifconfig prints beside an IPv6 address (the kernel's
// IPV6_ADDR_SCOPE bits, as /proc/net/if_inet6 has them).
std::string scope_id(const std::string& scope) {
  if (scope == "host") return "0x10<host>";
  if (scope == "link") return "0x20<link>";
  if (scope == "site") return "0x40<site>";
  return "0x0<global>";
}

}  // namespace

void print_interface_blocks(std::ostream& out, Rows& rows) {
  while (rows.next()) {
    const auto& r = rows.row();
    auto text = [&](int i) {
      auto s = std::get_if<std::string>(&r[i]);
      return s ? *s : std::string();
    };
    auto num = [&](int i) {
      auto v = std::get_if<int64_t>(&r[i]);
      return v ? static_cast<uint64_t>(*v) : 0;
    };
    std::string flags = text(1);
    unsigned bits = flag_bits(flags);
    out << text(0) << ": flags=" << bits << "<" << flags << ">  mtu " << num(2) << "\n";
    if (std::string inet = text(18); !inet.empty()) {
      std::string addr = inet.substr(0, inet.find(' ')), rest = inet.substr(inet.find(' ') + 1);
      std::string mask = rest.substr(0, rest.find(' ')), brd = rest.substr(rest.find(' ') + 1);
      out << "        inet " << addr << "  netmask " << mask;
      if (bits & 0x2) out << "  broadcast " << brd;
      out << "\n";
    }
    std::string inet6 = text(19);
    for (size_t at = 0; !inet6.empty() && at <= inet6.size();) {
      size_t comma = inet6.find(',', at);
      std::string one = inet6.substr(at, comma - at);
      size_t sp1 = one.find(' '), sp2 = one.find(' ', sp1 + 1);
      out << "        inet6 " << one.substr(0, sp1) << "  prefixlen " << one.substr(sp1 + 1, sp2 - sp1 - 1) << "  scopeid "
          << scope_id(one.substr(sp2 + 1)) << "\n";
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    if (bits & 0x8) out << "        loop  txqueuelen " << num(4) << "  (Local Loopback)\n";
    else if (!text(3).empty()) out << "        ether " << text(3) << "  txqueuelen " << num(4) << "  (Ethernet)\n";
    else out << "        unspec  txqueuelen " << num(4) << "  (UNSPEC)\n";
    out << "        RX packets " << num(5) << "  bytes " << bytes(num(6)) << "\n";
    out << "        RX errors " << num(7) << "  dropped " << num(8) << "  overruns " << num(9) << "  frame " << num(10) << "\n";
    out << "        TX packets " << num(11) << "  bytes " << bytes(num(12)) << "\n";
    out << "        TX errors " << num(13) << "  dropped " << num(14) << " overruns " << num(15) << "  carrier " << num(16)
        << "  collisions " << num(17) << "\n\n";
  }
}

}  // namespace netsql::shell
