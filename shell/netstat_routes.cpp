// netstat -r: the IPv4 main table as /proc/net/route shows it (-e: Metric,
// Ref, Use instead of MSS, Window, irtt; -C: the empty routing cache), and with -6 every IPv6 table as
// /proc/net/ipv6_route shows it, in the kernel's walk order.
#include <fmt/format.h>

#include "netstat.h"

namespace netsql::shell {

NetstatSection route_section(const NetstatOptions& o) {
  if (o.cache)  // the IPv4 routing cache left Linux in 3.6: netstat prints its header only
    return {NetstatKind::Routes, "Kernel IP routing cache",
            "SELECT NULL AS \"Source\", NULL AS \"Destination\", NULL AS \"Gateway\", NULL AS \"Flags\", "
            "NULL AS \"MSS\", NULL AS \"Window\", NULL AS \"irtt\", NULL AS \"Iface\" WHERE 0",
            ""};
  if (o.v6 && !o.v4) {
    // /proc/net/ipv6_route lists each table's null entry (::/0, a reject
    // route through lo with metric -1) after its routes when the table has
    // no default route; rtnetlink does not dump it. Reject routes and
    // local ones carry RTF_NONEXTHOP ("n").
    bool names = !o.numeric && !o.numeric_hosts;
    std::string any = names ? "'[::]'" : "'::'";
    std::string sql = fmt::format(
        "WITH r AS (SELECT *, row_number() OVER () AS n FROM routes WHERE family = 'inet6' AND type != 'unspec') "
        "SELECT CASE destination WHEN '::' THEN {0} ELSE destination END || '/' || prefix_len AS \"Destination\", "
        "CASE coalesce(gateway, '::') WHEN '::' THEN {0} ELSE gateway END AS \"Next Hop\", "
        "CASE WHEN type IN ('blackhole', 'unreachable', 'prohibit') THEN '!n' WHEN type = 'local' THEN 'Un' "
        "ELSE flags END AS \"Flag\", metric AS \"Met\", 0 AS \"Ref\", 0 AS \"Use\", coalesce(interface, 'lo') AS \"If\" "
        "FROM (SELECT n, destination, prefix_len, gateway, type, flags, metric, interface FROM r "
        "UNION ALL SELECT max(n) + 0.5, '::', 0, NULL, 'unreachable', '', -1, 'lo' FROM r GROUP BY table_id "
        "HAVING sum(prefix_len = 0) = 0) ORDER BY n",
        any);
    return {NetstatKind::Routes6, "Kernel IPv6 routing table", sql,
            "Destination                    Next Hop                   Flag Met Ref  Use If"};
  }
  // Unreachable and prohibit routes are RTF_REJECT, which netstat shows
  // as "!" with dashes; a blackhole route is plain "U" through no device.
  const char* reject = "type IN ('unreachable', 'prohibit')";
  bool names = !o.numeric && !o.numeric_hosts;
  std::string dest = names ? "CASE destination WHEN '0.0.0.0' THEN 'default' ELSE host_name(destination) END" : "destination";
  std::string gw = names ? "coalesce(host_name(gateway), '0.0.0.0')" : "coalesce(gateway, '0.0.0.0')";
  std::string middle =
      o.extend ? fmt::format("metric AS \"Metric\", CASE WHEN {0} THEN '-' ELSE 0 END AS \"Ref\", 0 AS \"Use\"", reject)
               : fmt::format("CASE WHEN {0} THEN '-' ELSE coalesce(mtu, 0) END AS \"MSS\", "
                             "CASE WHEN {0} THEN '-' ELSE coalesce(window, 0) END AS \"Window\", "
                             "CASE WHEN {0} THEN '-' ELSE coalesce(irtt, 0) END AS \"irtt\"",
                             reject);
  return {NetstatKind::Routes, "Kernel IP routing table",
          fmt::format("SELECT {1} AS \"Destination\", CASE WHEN {0} THEN '-' ELSE {2} END AS \"Gateway\", "
                      "netmask AS \"Genmask\", CASE WHEN {0} THEN '!' ELSE replace(flags, '!', '') END AS \"Flags\", {3}, "
                      "CASE WHEN {0} THEN '-' ELSE coalesce(interface, '*') END AS \"Iface\" "
                      "FROM routes WHERE family = 'inet' AND table_id = 254",
                      reject, dest, gw, middle),
          ""};
}

}  // namespace netsql::shell
