-- Top talkers among the TCP connections that close in the next 5 seconds
-- (closed_sockets listens for wait_ms; raise it, e.g. closed_sockets(3600000)
-- for an hour): bytes per remote address, from each connection's final tcp_info.
SELECT remote_address, count(*) AS connections, sum(bytes_sent) AS bytes_sent,
       sum(bytes_received) AS bytes_received
FROM closed_sockets(5000) WHERE protocol = 'tcp'
GROUP BY remote_address ORDER BY bytes_sent + bytes_received DESC LIMIT 10;
