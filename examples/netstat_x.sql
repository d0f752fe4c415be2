-- netstat -xp: unix-domain sockets with their peers and programs.
SELECT type, state, inode, peer_inode, path, pid, process FROM unix_sockets ORDER BY path IS NULL, path;
