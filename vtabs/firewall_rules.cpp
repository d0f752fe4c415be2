// firewall_rules: every nftables rule (iptables-nft rules included), from
// the ruleset libnftables lists (nft -a list ruleset): the rule text exactly
// as nft prints it, its counters, its comment. Legacy x_tables rules
// (iptables-legacy) are not in nftables: firewall_chains shows their tables
// and entry counts, and a scan here warns when any exist.
#include <fmt/format.h>

#include "kernel/nft.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { FAMILY, TABLE_NAME, CHAIN, HANDLE, POSITION, RULE, PACKETS, BYTES, COMMENT, kCount };

constexpr std::array<Column, kCount> kColumns{{
    key({"family", Type::Text, "nftables family: ip, ip6, inet, arp, bridge or netdev"}),
    key({"table_name", Type::Text, "table the rule is in"}),
    key({"chain", Type::Text, "chain the rule is in"}),
    key({"handle", Type::Integer, "rule handle, unique in its table (nft -a; nft delete rule ... handle N)"}),
    {"position", Type::Integer, "1 for the first rule of its chain, in the order the kernel evaluates them"},
    {"rule", Type::Text, "the rule as nft list ruleset prints it (without the # handle comment)"},
    {"packets", Type::Integer, "packets its counter statements counted (summed over them); NULL for a rule without one"},
    {"bytes", Type::Integer, "bytes its counter statements counted; NULL for a rule without one"},
    {"comment", Type::Text, "the rule's comment; NULL when none (an iptables -m comment is an x_tables match nft "
                            "cannot print, so it shows neither here nor in the rule text)"},
}};

// Legacy x_tables entries nftables does not show, as a warning: the rows
// are in firewall_chains (backend 'x_tables').
void warn_about_legacy(const kernel::Netns& ns) {
  for (const auto& t : kernel::legacy_tables(ns))
    if (t.entries.value_or(0) > 0)
      warn(fmt::format("firewall_rules: legacy x_tables table {} {} holds {} entries that nftables does not show "
                       "(iptables-legacy -S; firewall_chains lists them with backend 'x_tables')",
                       t.family, t.name, *t.entries));
}

class RulesCursor final : public RowsCursor<kernel::NftRule> {
  void load(const Query& q, std::vector<kernel::NftRule>& rows) override {
    rows = kernel::list_ruleset(*q.netns).rules;
    warn_about_legacy(*q.netns);
  }
  void column(const kernel::NftRule& r, int col, Cell& out) override {
    switch (col) {
      case FAMILY: return out.text(r.family);
      case TABLE_NAME: return out.text(r.table);
      case CHAIN: return out.text(r.chain);
      case HANDLE: return out.integer(r.handle);
      case POSITION: return out.integer(r.position);
      case RULE: return out.text(r.text);
      case PACKETS: return out.integer(r.packets);
      case BYTES: return out.integer(r.bytes);
      case COMMENT: return out.maybe_text(r.comment);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kFirewallRules{
    "firewall_rules",
    "nftables rules with their counters, as nft -a list ruleset shows them (iptables-nft rules included). "
    "Needs CAP_NET_ADMIN. Legacy iptables (x_tables) rules are not listed: firewall_chains counts them.",
    kColumns,
    50,
    [] { return std::unique_ptr<Cursor>(new RulesCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
