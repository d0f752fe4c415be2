// rtnetlink dumps: links, routes, addresses, neighbours, parsed into plain
// structs (these tables are small; each dump is retried on NLM_F_DUMP_INTR
// so a row set is never torn). Part of the kernel layer: no SQLite here.
#pragma once

#include <linux/if_link.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/netlink.h"
#include "kernel/netns.h"

namespace netsql::kernel {

// An rtnetlink socket in namespace `ns`, with strict checking on, so that
// the kernel honours the filters we put in dump requests (table, family).
NetlinkSocket rtnl_socket(const Netns& ns);

struct Link {
  int index = 0;
  std::string name, kind, mac, broadcast_mac, qdisc;
  unsigned flags = 0, type = 0;
  uint8_t operstate = 0;
  std::optional<uint32_t> mtu, txqlen, carrier_changes;
  int master = 0;
  std::optional<rtnl_link_stats64> stats;  // absent when the kernel sent none
};

// Every link, or just the one with this index or name (none if no such).
std::vector<Link> dump_links(NetlinkSocket& rtnl, int index = 0, const std::string& name = {});

using LinkNames = std::unordered_map<uint32_t, std::string>;
LinkNames link_names(NetlinkSocket& rtnl);
// The name of link `index`: its number as text when the dump did not
// have it (it went away meanwhile), "" for index 0 (no link).
std::string link_name(const LinkNames& names, int index);

struct Nexthop {
  std::string gateway;  // "" when none
  int oif = 0;
  std::optional<int> weight;  // multipath only
  unsigned flags = 0;
};

struct Route {
  uint8_t family = 0, dst_len = 0, src_len = 0, tos = 0, protocol = 0, scope = 0, type = 0;
  uint32_t table = 0, flags = 0;
  std::string destination, source, prefsrc;
  std::optional<uint32_t> priority, mtu, window, rtt, advmss;
  std::optional<int64_t> expires_ms;
  std::vector<Nexthop> nexthops;  // at least one (possibly empty) entry
};

// Routes of every table, or of `table` (0: all), for one family.
std::vector<Route> dump_routes(NetlinkSocket& rtnl, uint8_t family, uint32_t table = 0);

struct Address {
  uint8_t family = 0, prefix_len = 0, scope = 0;
  uint32_t flags = 0;
  int index = 0;
  std::string address, peer, broadcast, label;
  std::optional<uint32_t> valid_s, preferred_s;  // nullopt: forever
};

std::vector<Address> dump_addresses(NetlinkSocket& rtnl, uint8_t family);

struct Neighbor {
  uint8_t family = 0, type = 0;
  uint16_t state = 0;
  uint8_t flags = 0;
  int index = 0;
  std::string address, mac;  // mac "" when the entry has none
};

std::vector<Neighbor> dump_neighbors(NetlinkSocket& rtnl, uint8_t family);

// Decoding of single messages, exposed for fixture tests. Each returns
// nullopt for a message of another type or too short for its header.
std::optional<Link> parse_link(const nlmsghdr* m);
std::optional<Route> parse_route(const nlmsghdr* m);
std::optional<Address> parse_address(const nlmsghdr* m);
std::optional<Neighbor> parse_neighbor(const nlmsghdr* m);

}  // namespace netsql::kernel
