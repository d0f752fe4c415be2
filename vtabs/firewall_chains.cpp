// firewall_chains: every nftables chain, from the ruleset libnftables lists
// (nft -a -y list ruleset), plus one row per legacy x_tables table
// (iptables-legacy; /proc/net/ip_tables_names and ip6_tables_names) with
// its entry count, so that rules nftables does not show are never missed.
#include "kernel/nft.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { FAMILY, TABLE_NAME, CHAIN, HANDLE, TYPE, HOOK, DEVICE, PRIORITY, POLICY, RULE_COUNT, BACKEND, kCount };

constexpr std::array<Column, kCount> kColumns{{
    key({"family", Type::Text, "nftables family: ip, ip6, inet, arp, bridge or netdev (x_tables: ip or ip6)"}),
    key({"table_name", Type::Text, "table the chain is in"}),
    key({"chain", Type::Text, "chain name; NULL on an x_tables row (its chains are not read)"}),
    {"handle", Type::Integer, "chain handle, unique in its table; NULL on an x_tables row"},
    {"type", Type::Text, "base chain type: filter, nat or route; NULL for a regular chain (reached by jump/goto)"},
    {"hook", Type::Text, "hook of a base chain: prerouting, input, forward, output, postrouting, ingress, egress"},
    {"device", Type::Text, "device(s) a netdev base chain is bound to, as nft prints them; else NULL"},
    {"priority", Type::Integer, "base chain priority, numeric (filter is 0, srcnat 100, ...); lower runs first"},
    {"policy", Type::Text, "base chain policy: accept or drop"},
    {"rule_count", Type::Integer,
     "rules in the chain; on an x_tables row, the table's entries beyond its built-in policies (rules, plus two "
     "per user-defined chain), NULL when the kernel would not say (needs CAP_NET_ADMIN)"},
    key({"backend", Type::Text, "'nftables', or 'x_tables' for a legacy iptables table whose rules firewall_rules "
                                "does not show (read them with iptables-legacy -S)"}),
}};

struct Row {
  kernel::NftChain chain;
  bool legacy = false;
};

class ChainsCursor final : public RowsCursor<Row> {
  void load(const Query& q, std::vector<Row>& rows) override {
    for (auto& c : kernel::list_ruleset(*q.netns).chains) rows.push_back(Row{std::move(c)});
    for (auto& t : kernel::legacy_tables(*q.netns)) {
      Row r;
      r.legacy = true;
      r.chain.family = std::move(t.family);
      r.chain.table = std::move(t.name);
      r.chain.rules = t.entries.value_or(-1);
      rows.push_back(std::move(r));
    }
  }
  void column(const Row& row, int col, Cell& out) override {
    const kernel::NftChain& c = row.chain;
    if (row.legacy && (col == CHAIN || col == HANDLE)) return out.null();
    switch (col) {
      case FAMILY: return out.text(c.family);
      case TABLE_NAME: return out.text(c.table);
      case CHAIN: return out.text(c.name);
      case HANDLE: return out.integer(c.handle);
      case TYPE: return out.maybe_text(c.type);
      case HOOK: return out.maybe_text(c.hook);
      case DEVICE: return out.maybe_text(c.device);
      case PRIORITY: return out.integer(c.priority);
      case POLICY: return out.maybe_text(c.policy);
      case RULE_COUNT: return c.rules < 0 ? out.null() : out.integer(c.rules);
      case BACKEND: return out.text(row.legacy ? "x_tables" : "nftables");
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kFirewallChains{
    "firewall_chains",
    "nftables chains (iptables-nft included) with hook, priority, policy and rule count, plus one row per legacy "
    "iptables (x_tables) table counting the rules firewall_rules cannot show. Needs CAP_NET_ADMIN.",
    kColumns,
    20,
    [] { return std::unique_ptr<Cursor>(new ChainsCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
