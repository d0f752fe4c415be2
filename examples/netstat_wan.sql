-- netstat -wan: raw IP sockets (the protocol number stands where a port would).
SELECT family, local_address, protocol, remote_address, state, pid, process FROM raw_sockets ORDER BY protocol;
