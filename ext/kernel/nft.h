// The firewall: the nftables ruleset (rules added with iptables-nft
// included) as `nft -a -y list ruleset` prints it, through libnftables, and
// the legacy x_tables (iptables-legacy) tables, which nftables does not
// show, counted so that their rules are never silently missed. The listing
// parser takes text, so it runs on recorded fixtures. Part of the kernel layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netsql::kernel {

class Netns;

struct NftChain {
  std::string family, table, name;
  int64_t handle = 0;
  // Base chains only (absent for chains reached by jump/goto).
  std::optional<std::string> type, hook, policy, device;
  std::optional<int64_t> priority;
  int64_t rules = 0;
};

struct NftRule {
  std::string family, table, chain;
  int64_t handle = 0;
  int64_t position = 0;  // 1 for the chain's first rule
  std::string text;      // as nft prints it, without its "# handle N"
  // Sums over the rule's anonymous counters; absent when it has none.
  std::optional<int64_t> packets, bytes;
  std::optional<std::string> comment;
};

struct Ruleset {
  std::vector<NftChain> chains;
  std::vector<NftRule> rules;
};

// Parses a listing printed with handles and numeric priorities (nft -a -y
// list ruleset). Lines it does not understand (sets, maps, flowtables and
// their elements, objects) are skipped; a rule line outside a chain is
// ignored.
Ruleset parse_nft_listing(std::string_view text);

// The ruleset of namespace `ns`, listed by libnftables on a thread inside
// it. Throws std::runtime_error with nft's own message when the kernel
// refuses (listing needs CAP_NET_ADMIN).
Ruleset list_ruleset(const Netns& ns);

// A legacy x_tables table (/proc/net/ip_tables_names, ip6_tables_names)
// and how many entries it holds beyond its built-in chains' policies:
// rules, plus two for each user-defined chain. nullopt when the kernel
// would not say (no CAP_NET_ADMIN).
struct XtTable {
  std::string family;  // ip or ip6
  std::string name;    // filter, nat, mangle, raw, security
  std::optional<int64_t> entries;
};
std::vector<XtTable> legacy_tables(const Netns& ns);

}  // namespace netsql::kernel
