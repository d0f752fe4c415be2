-- Which interfaces are dropping or erroring packets?
SELECT name, operstate, rx_dropped, rx_missed, rx_errors, rx_crc_errors, tx_dropped, tx_errors, carrier_changes
FROM interfaces
WHERE rx_dropped + rx_missed + rx_errors + tx_dropped + tx_errors > 0
ORDER BY rx_dropped + rx_missed + rx_errors + tx_dropped + tx_errors DESC;
