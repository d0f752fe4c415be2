-- netstat -i: per-interface packet counters of the interfaces that are up.
SELECT name AS "Iface", mtu AS "MTU",
       rx_packets AS "RX-OK", rx_errors AS "RX-ERR", rx_dropped + rx_missed AS "RX-DRP", rx_fifo_errors AS "RX-OVR",
       tx_packets AS "TX-OK", tx_errors AS "TX-ERR", tx_dropped AS "TX-DRP", tx_fifo_errors AS "TX-OVR",
       flags AS "Flg"
FROM interfaces WHERE instr(flags, 'U') > 0  -- netstat -i lists interfaces that are up (-a: all)
ORDER BY ifindex;
