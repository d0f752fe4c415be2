#include "kernel/rtnl_names.h"

#include <dirent.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace netsql::kernel {

std::string route_protocol_name(unsigned proto) {
  switch (proto) {
    case RTPROT_UNSPEC: return "unspec";
    case RTPROT_REDIRECT: return "redirect";
    case RTPROT_KERNEL: return "kernel";
    case RTPROT_BOOT: return "boot";
    case RTPROT_STATIC: return "static";
    case RTPROT_GATED: return "gated";
    case RTPROT_RA: return "ra";
    case RTPROT_MRT: return "mrt";
    case RTPROT_ZEBRA: return "zebra";
    case RTPROT_BIRD: return "bird";
    case RTPROT_DNROUTED: return "dnrouted";
    case RTPROT_XORP: return "xorp";
    case RTPROT_NTK: return "ntk";
    case RTPROT_DHCP: return "dhcp";
    case RTPROT_MROUTED: return "mrouted";
    case RTPROT_KEEPALIVED: return "keepalived";
    case RTPROT_BABEL: return "babel";
    case 99: return "openr";
    case RTPROT_BGP: return "bgp";
    case RTPROT_ISIS: return "isis";
    case RTPROT_OSPF: return "ospf";
    case RTPROT_RIP: return "rip";
    case RTPROT_EIGRP: return "eigrp";
    default: return std::to_string(proto);
  }
}

std::string route_scope_name(unsigned scope) {
  switch (scope) {
    case RT_SCOPE_UNIVERSE: return "global";
    case RT_SCOPE_SITE: return "site";
    case RT_SCOPE_LINK: return "link";
    case RT_SCOPE_HOST: return "host";
    case RT_SCOPE_NOWHERE: return "nowhere";
    default: return std::to_string(scope);
  }
}

std::string route_type_name(unsigned type) {
  static constexpr const char* kNames[] = {"unspec",    "unicast",     "local",    "broadcast",
                                           "anycast",   "multicast",   "blackhole", "unreachable",
                                           "prohibit",  "throw",       "nat",      "xresolve"};
  return type < std::size(kNames) ? kNames[type] : std::to_string(type);
}

std::string operstate_name(unsigned state) {
  static constexpr const char* kNames[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
                                           "TESTING", "DORMANT",    "UP"};
  return state < std::size(kNames) ? kNames[state] : std::to_string(state);
}

std::string neighbor_state_name(unsigned nud) {
  struct N {
    unsigned bit;
    const char* name;
  };
  static constexpr N kNames[] = {{NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
                                 {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
                                 {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"}};
  if (nud == NUD_NONE) return "NONE";
  std::string s;
  for (const auto& n : kNames)
    if (nud & n.bit) s += std::string(s.empty() ? "" : ",") + n.name;
  return s.empty() ? std::to_string(nud) : s;
}

std::string address_flags_text(uint32_t f, int family) {
  struct N {
    uint32_t bit;
    const char* name;
  };
  static constexpr N kNames[] = {{IFA_F_NODAD, "nodad"},
                                 {IFA_F_OPTIMISTIC, "optimistic"},
                                 {IFA_F_DADFAILED, "dadfailed"},
                                 {IFA_F_HOMEADDRESS, "home"},
                                 {IFA_F_DEPRECATED, "deprecated"},
                                 {IFA_F_TENTATIVE, "tentative"},
                                 {IFA_F_PERMANENT, "permanent"},
                                 {IFA_F_MANAGETEMPADDR, "mngtmpaddr"},
                                 {IFA_F_NOPREFIXROUTE, "noprefixroute"},
                                 {IFA_F_MCAUTOJOIN, "autojoin"},
                                 {IFA_F_STABLE_PRIVACY, "stable-privacy"}};
  std::string s;
  // One bit, two meanings: a secondary IPv4 address, a temporary IPv6 one.
  if (f & IFA_F_SECONDARY) s = family == 10 ? "temporary" : "secondary";
  for (const auto& n : kNames)
    if (f & n.bit) s += std::string(s.empty() ? "" : ",") + n.name;
  return s;
}

std::string netstat_link_flags(unsigned f) {
  struct L {
    unsigned bit;
    char c;
  };
  // net-tools' order (lib/interface.c, ife_print_short).
  static constexpr L kLetters[] = {{IFF_ALLMULTI, 'A'}, {IFF_BROADCAST, 'B'}, {IFF_DEBUG, 'D'}, {IFF_LOOPBACK, 'L'},
                                   {IFF_MULTICAST, 'M'}, {IFF_DYNAMIC, 'd'}, {IFF_PROMISC, 'P'},
                                   {IFF_NOTRAILERS, 'N'}, {IFF_NOARP, 'O'}, {IFF_POINTOPOINT, 'P'}, {IFF_SLAVE, 's'},
                                   {IFF_MASTER, 'm'}, {IFF_RUNNING, 'R'}, {IFF_UP, 'U'}};
  std::string s;
  for (const auto& l : kLetters)
    if (f & l.bit) s += l.c;
  return s;
}

std::string ifconfig_link_flags(unsigned f) {
  struct N {
    unsigned bit;
    const char* name;
  };
  static constexpr N kNames[] = {{IFF_UP, "UP"},           {IFF_BROADCAST, "BROADCAST"},   {IFF_DEBUG, "DEBUG"},
                                 {IFF_LOOPBACK, "LOOPBACK"}, {IFF_POINTOPOINT, "POINTOPOINT"}, {IFF_NOTRAILERS, "NOTRAILERS"},
                                 {IFF_RUNNING, "RUNNING"}, {IFF_NOARP, "NOARP"},           {IFF_PROMISC, "PROMISC"},
                                 {IFF_ALLMULTI, "ALLMULTI"}, {IFF_SLAVE, "SLAVE"},         {IFF_MASTER, "MASTER"},
                                 {IFF_MULTICAST, "MULTICAST"}, {IFF_DYNAMIC, "DYNAMIC"}};
  std::string s;
  for (const auto& n : kNames)
    if (f & n.bit) s += std::string(s.empty() ? "" : ",") + n.name;
  return s;
}

std::map<uint32_t, std::string> parse_rt_tables(std::string_view text) {
  std::map<uint32_t, std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto skip = [&] {
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    };
    skip();
    uint32_t id = 0;
    int base = line.substr(0, 2) == "0x" ? 16 : 10;
    if (base == 16) line.remove_prefix(2);
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), id, base);
    if (ec != std::errc() || p == line.data()) continue;
    line.remove_prefix(static_cast<size_t>(p - line.data()));
    if (line.empty() || (line.front() != ' ' && line.front() != '\t')) continue;
    skip();
    size_t end = line.find_first_of(" \t\r");
    std::string_view name = line.substr(0, end);
    if (!name.empty()) out[id] = std::string(name);
  }
  return out;
}

namespace {

void read_tables_file(const std::string& path, std::map<uint32_t, std::string>& into) {
  std::ifstream in(path);
  if (!in) return;
  std::stringstream ss;
  ss << in.rdbuf();
  for (auto& [id, name] : parse_rt_tables(ss.str())) into[id] = name;
}

void read_tables_dir(const std::string& dir, std::map<uint32_t, std::string>& into) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".conf") read_tables_file(dir + "/" + n, into);
  }
  closedir(d);
}

}  // namespace

std::string RouteTables::name(uint32_t id) {
  switch (id) {
    case RT_TABLE_UNSPEC: return "unspec";
    case RT_TABLE_DEFAULT: return "default";
    case RT_TABLE_MAIN: return "main";
    case RT_TABLE_LOCAL: return "local";
  }
  if (!names_) {
    names_.emplace();
    for (const std::string& dir : dirs_) {
      read_tables_file(dir + "/rt_tables", *names_);
      read_tables_dir(dir + "/rt_tables.d", *names_);
    }
  }
  auto it = names_->find(id);
  return it == names_->end() ? std::to_string(id) : it->second;
}

std::string mac_text(const uint8_t* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ':';
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

}  // namespace netsql::kernel
