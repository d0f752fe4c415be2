-- Which programs hold connections to remote port 443, and how many each?
SELECT process, pid, count(*) AS connections
FROM tcp_sockets WHERE state = 'ESTABLISHED' AND remote_port = 443
GROUP BY pid ORDER BY connections DESC;
