-- netstat -g: IPv4 and IPv6 multicast group memberships.
SELECT interface AS "Interface", users AS "RefCnt", group_address AS "Group"
FROM multicast_groups WHERE family IN ('inet', 'inet6') ORDER BY family DESC, interface;
