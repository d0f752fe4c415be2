-- netstat -an -6: IPv6 TCP and UDP sockets only.
SELECT 'tcp6' AS proto, local_address, local_port, remote_address, remote_port, state FROM tcp_sockets WHERE family = 'inet6'
UNION ALL
SELECT 'udp6', local_address, local_port, remote_address, remote_port, state FROM udp_sockets WHERE family = 'inet6';
