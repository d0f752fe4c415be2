-- Which interface and gateway does each connection leave by (ip route get
-- for every peer)? A peer the kernel cannot route shows why in error.
SELECT t.remote_address, t.remote_port, r.interface, r.gateway, r.table_name, r.error
FROM tcp_sockets t JOIN route_get r ON r.destination = t.remote_address
WHERE t.state NOT IN ('LISTEN', 'TIME_WAIT')
ORDER BY r.interface, t.remote_address;
