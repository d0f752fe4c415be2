-- Is this host forwarding? Interfaces that route IPv4 or IPv6 packets,
-- with their reverse-path filter and whether they accept redirects and
-- router advertisements.
SELECT name, ipv4_forwarding, ipv6_forwarding, rp_filter, accept_redirects, accept_ra
FROM interface_settings WHERE ipv4_forwarding = 1 OR ipv6_forwarding = 1 ORDER BY name;
