-- netstat -rn: the kernel IPv4 routing table (main table), numeric, with
-- netstat's columns. Drop the table_id filter to see every table.
SELECT destination AS "Destination", coalesce(gateway, '0.0.0.0') AS "Gateway", netmask AS "Genmask",
       flags AS "Flags", coalesce(mtu, 0) AS "MSS", coalesce(window, 0) AS "Window", coalesce(irtt, 0) AS "irtt",
       coalesce(interface, '*') AS "Iface"
FROM routes WHERE family = 'inet' AND table_id = 254
ORDER BY prefix_len DESC, metric;
