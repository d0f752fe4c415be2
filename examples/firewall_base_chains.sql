-- What does the firewall do with traffic no rule decides? Base chains by
-- hook and priority, their policies, and legacy iptables tables whose rules
-- nftables cannot show.
SELECT backend, family, table_name, chain, hook, priority, policy, rule_count
FROM firewall_chains WHERE hook IS NOT NULL OR backend = 'x_tables' ORDER BY hook, priority;
