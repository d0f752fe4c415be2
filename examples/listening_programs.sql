-- Every listening TCP port and UDP socket with all the processes holding
-- it (forked workers included) and their command lines.
SELECT t.proto, t.local_address, t.local_port, o.pid, o.fd, p.cmdline
FROM (SELECT 'tcp' AS proto, local_address, local_port, inode FROM tcp_sockets WHERE state = 'LISTEN'
      UNION ALL
      SELECT 'udp', local_address, local_port, inode FROM udp_sockets WHERE state = 'UNCONN') AS t
JOIN socket_owners o ON o.inode = t.inode
JOIN processes p ON p.pid = o.pid
ORDER BY t.proto, t.local_port, o.pid;
