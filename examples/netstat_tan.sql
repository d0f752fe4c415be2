-- netstat -tan: every TCP socket, numeric.
SELECT 'tcp' || CASE family WHEN 'inet6' THEN '6' ELSE '' END AS proto, recv_q, send_q,
       local_address || ':' || local_port AS local, remote_address || ':' || remote_port AS "foreign", state
FROM tcp_sockets;
