-- Which processes follow the kernel's events: netlink sockets listening to
-- multicast groups (route changes, uevents, generic netlink families).
SELECT process, pid, protocol, groups FROM netlink_sockets
WHERE groups IS NOT NULL AND portid != 0 ORDER BY protocol, process;
