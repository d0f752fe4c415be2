-- Is this link at 1G or 10G? Speed, duplex and driver of every interface
-- that reports one (ethtool, ethtool -i).
SELECT d.name, d.speed_mbps, d.duplex, d.autoneg, d.port, d.driver, d.bus_info, i.operstate
FROM interface_details d JOIN interfaces i ON i.ifindex = d.ifindex
WHERE d.driver IS NOT NULL ORDER BY d.speed_mbps DESC, d.name;
