-- SYN flood check: half-open connections per listening port and remote address.
SELECT local_port, remote_address, count(*) AS half_open
FROM tcp_sockets WHERE state = 'SYN_RECV'
GROUP BY local_port, remote_address HAVING count(*) > 0 ORDER BY half_open DESC;
