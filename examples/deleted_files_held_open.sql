-- Files deleted but still held open (their disk space is not freed until
-- the holder closes them), with the holder and its offset, like
-- lsof +L1.
SELECT f.pid, p.name, f.fd, f.access, f.pos, f.path
FROM process_open_files f
JOIN processes p ON p.pid = f.pid
WHERE f.type = 'file' AND f.path LIKE '% (deleted)'
ORDER BY f.pid, f.fd;
