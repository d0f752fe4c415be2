-- netstat -tlnp: listening TCP ports with the program that holds each.
SELECT family, local_address, local_port, pid, process
FROM tcp_sockets WHERE state = 'LISTEN' ORDER BY local_port;
