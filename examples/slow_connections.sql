-- The ten established connections with the highest round-trip time, with
-- their congestion state and retransmissions.
SELECT remote_address, remote_port, rtt_us, rttvar_us, cwnd, ssthresh, retrans_total, bytes_retrans, congestion
FROM tcp_sockets WHERE state = 'ESTABLISHED' ORDER BY rtt_us DESC LIMIT 10;
