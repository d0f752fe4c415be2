-- ip -brief addr / ifconfig: every address with its interface state,
-- secondary addresses included.
SELECT a.interface, i.operstate, a.family, a.address || '/' || a.prefix_len AS address, a.flags
FROM interface_addresses a JOIN interfaces i ON i.name = a.interface
ORDER BY i.ifindex, a.family, a.address;
