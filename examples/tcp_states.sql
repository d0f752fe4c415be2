-- How many TCP sockets are in each state?
SELECT state, count(*) AS sockets FROM tcp_sockets GROUP BY state ORDER BY sockets DESC;
