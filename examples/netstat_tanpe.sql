-- netstat -tanpe: every TCP socket with owner uid, inode and program.
SELECT family, local_address, local_port, remote_address, remote_port, state, uid, inode, pid, process
FROM tcp_sockets ORDER BY state, local_port;
