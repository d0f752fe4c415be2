-- Connections per systemd unit: established TCP connections counted by the
-- service or scope of the process holding them (NULL: no unit, or no owner
-- visible), with the number of distinct peers.
SELECT p.systemd_unit, count(*) AS connections, count(DISTINCT t.remote_address) AS peers
FROM tcp_sockets t LEFT JOIN processes p ON p.pid = t.pid
WHERE t.state = 'ESTABLISHED'
GROUP BY p.systemd_unit
ORDER BY connections DESC;
