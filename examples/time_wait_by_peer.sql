-- Which peers leave TIME_WAIT sockets behind?
SELECT remote_address, count(*) AS time_wait FROM tcp_sockets WHERE state = 'TIME_WAIT'
GROUP BY remote_address ORDER BY time_wait DESC;
