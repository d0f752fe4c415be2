-- What is NATed where? Every tracked flow whose source (SNAT, masquerade)
-- or destination (DNAT, port forwarding) the firewall rewrote, as seen from
-- both ends. Needs CAP_NET_ADMIN (run as root).
SELECT protocol, src, sport, dst, dport,
       snat_address || ':' || coalesce(snat_port, '') AS source_as_sent,
       dnat_address || ':' || coalesce(dnat_port, '') AS destination_really,
       state, status
FROM conntrack WHERE snat_address IS NOT NULL OR dnat_address IS NOT NULL
ORDER BY protocol, dst, dport;
