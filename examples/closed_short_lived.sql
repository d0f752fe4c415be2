-- Short-lived connections per remote address (scan or flood signs): TCP
-- connections closing within 5 seconds that carried almost no data or never
-- got past the handshake (nothing acknowledged beyond the SYN).
SELECT remote_address, count(*) AS connections,
       sum(bytes_received <= 1) AS empty, count(DISTINCT local_port) AS local_ports
FROM closed_sockets(5000) WHERE protocol = 'tcp'
GROUP BY remote_address ORDER BY connections DESC LIMIT 20;
