-- Connections to port 443 that had to retransmit, as they close (listening
-- for 5 seconds): the remote port is checked before a row is made.
SELECT remote_address, local_port, retrans_total, bytes_retrans, lost, rtt_us, bytes_sent
FROM closed_sockets(5000) WHERE protocol = 'tcp' AND remote_port = 443 AND retrans_total > 0
ORDER BY bytes_retrans DESC;
