-- netstat -tln: listening TCP sockets, numeric.
SELECT family, local_address, local_port, recv_q, send_q
FROM tcp_sockets WHERE state = 'LISTEN' ORDER BY local_port;
