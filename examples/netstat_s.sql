-- netstat -s: protocol counters, the non-zero ones, grouped by protocol.
SELECT protocol, name, value FROM protocol_stats WHERE value != 0 ORDER BY protocol, name;
