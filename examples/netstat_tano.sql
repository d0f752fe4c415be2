-- netstat -tano: TCP sockets with their timers (retransmit, keepalive, TIME_WAIT).
SELECT local_address, local_port, remote_address, remote_port, state, timer, timer_expires_ms, retransmits
FROM tcp_sockets WHERE timer != 'off' ORDER BY timer_expires_ms;
