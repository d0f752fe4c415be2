-- Short-lived connections per remote address (scan or flood signs): TCP
-- connections opened and closed within 5 seconds that lived less than one
-- (duration_ms: NULL, so left out, for those opened before the scan), how
-- many carried almost no data, and the longest of them.
SELECT remote_address, count(*) AS connections,
       sum(bytes_received <= 1) AS empty, count(DISTINCT local_port) AS local_ports,
       max(duration_ms) AS longest_ms
FROM closed_sockets(5000) WHERE protocol = 'tcp' AND duration_ms < 1000
GROUP BY remote_address ORDER BY connections DESC LIMIT 20;
