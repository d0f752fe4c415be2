-- arp -n: the IPv4 neighbour (ARP) cache.
SELECT address AS "Address", 'ether' AS "HWtype", coalesce(mac, '(incomplete)') AS "HWaddress",
       CASE WHEN state = 'PERMANENT' THEN 'CM' ELSE 'C' END AS "Flags", interface AS "Iface"
FROM neighbors WHERE family = 'inet' AND state NOT IN ('NOARP', 'FAILED') ORDER BY address;
