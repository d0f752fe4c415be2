-- Which container listens on 0.0.0.0 (or ::): every TCP listener bound to
-- all addresses, with the container its process runs in (NULL: the host)
-- and the systemd unit around it.
SELECT p.container_id, p.systemd_unit, t.family, t.local_port, t.pid, p.name, p.cmdline
FROM tcp_sockets t JOIN processes p ON p.pid = t.pid
WHERE t.state = 'LISTEN' AND t.local_address IN ('0.0.0.0', '::')
ORDER BY p.container_id IS NULL, p.container_id, t.local_port;
