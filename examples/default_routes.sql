-- Where does traffic leave this host? Default routes of every table, with
-- every nexthop of a multipath route.
SELECT family, table_name, gateway, interface, metric, nexthop_weight
FROM routes WHERE prefix_len = 0 AND type = 'unicast' ORDER BY family, table_id, metric;
