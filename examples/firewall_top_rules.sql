-- Which firewall rules matched the most traffic? Every rule with a counter,
-- busiest first (iptables-nft rules included).
SELECT family, table_name, chain, position, packets, bytes, comment, rule
FROM firewall_rules WHERE packets IS NOT NULL ORDER BY bytes DESC LIMIT 20;
