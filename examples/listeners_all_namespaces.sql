-- Which containers (network namespaces) listen on a wildcard address?
SELECT coalesce(n.name, n.process) AS namespace, n.pid, t.family, t.local_address, t.local_port
FROM network_namespaces n JOIN tcp_sockets t ON t.netns = n.path
WHERE t.state = 'LISTEN' AND t.local_address IN ('0.0.0.0', '::')
ORDER BY namespace, t.local_port;
