-- Which namespace has a TIME_WAIT pile-up?
SELECT n.inode, n.name, n.path, count(*) AS time_wait
FROM network_namespaces n JOIN tcp_sockets t ON t.netns = n.path
WHERE t.state = 'TIME_WAIT' GROUP BY n.inode ORDER BY time_wait DESC;
