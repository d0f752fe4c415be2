-- Who is sniffing? Every process capturing frames (AF_PACKET, as tcpdump,
-- dhclient or an IDS do), on which interface, promiscuous or not, with
-- which filter. bpf_filter is NULL unless run with CAP_NET_ADMIN.
SELECT process, pid, coalesce(interface, '(all)') AS interface, coalesce(protocol_name, protocol) AS protocol,
       promiscuous, bpf_filter, bpf_instructions, fanout_id, fanout_type, rx_ring
FROM packet_sockets ORDER BY promiscuous DESC, process;
