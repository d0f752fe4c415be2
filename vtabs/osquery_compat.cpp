// osquery's table names over netsql's tables: TEMP views named and typed
// as osquery's specs (specs/*.table) declare them, values converted where
// the conventions differ (integer family and protocol, netmask as a prefix
// length, "" where osquery leaves a field empty). They read netsql's
// tables through `main.` (the eponymous tables), so a view may carry the
// name of the table it converts (routes). netsql_osquery_compat() creates
// them on the calling connection; the shell's --osquery-compat runs it.
#include <string>

#include "vtabs/osquery_compat.h"
#include "vtabs/sqlite.h"

namespace netsql::vt {

const char* osquery_compat_sql() {
  // TEMP views may use DIRECTONLY tables (only schema views may not).
  // One row per owning (pid, fd), and one with pid and fd -1 for a socket
  // no process holds, as osquery does; socket_owners is read once.
  return R"sql(
CREATE TEMP VIEW IF NOT EXISTS process_open_sockets AS
WITH o AS MATERIALIZED (SELECT inode, pid, fd FROM main.socket_owners),
s AS (
  SELECT inode, CASE family WHEN 'inet' THEN 2 ELSE 10 END AS family, 6 AS protocol, local_address, remote_address,
         local_port, remote_port, '' AS path, state FROM main.tcp_sockets
  UNION ALL
  SELECT inode, CASE family WHEN 'inet' THEN 2 ELSE 10 END, 17, local_address, remote_address, local_port,
         remote_port, '', '' FROM main.udp_sockets
  UNION ALL
  SELECT inode, 1, 0, '', '', 0, 0, coalesce(path, ''), '' FROM main.unix_sockets)
SELECT coalesce(o.pid, -1) AS pid, coalesce(o.fd, -1) AS fd, s.inode AS socket, s.family AS family,
       s.protocol AS protocol, s.local_address AS local_address, s.remote_address AS remote_address,
       s.local_port AS local_port, s.remote_port AS remote_port, s.path AS path, s.state AS state,
       (SELECT CAST(inode AS TEXT) FROM main.network_namespaces WHERE is_current) AS net_namespace
FROM s LEFT JOIN o ON o.inode = s.inode;

CREATE TEMP VIEW IF NOT EXISTS listening_ports AS
SELECT pid, local_port AS port, protocol, family, CASE family WHEN 1 THEN '' ELSE local_address END AS address,
       fd, CASE family WHEN 1 THEN 0 ELSE socket END AS socket, path, net_namespace
FROM temp.process_open_sockets
WHERE (family = 1 AND path != '') OR (family IN (2, 10) AND remote_port = 0);

CREATE TEMP VIEW IF NOT EXISTS arp_cache AS
SELECT address, coalesce(mac, '00:00:00:00:00:00') AS mac, interface,
       CASE state WHEN 'PERMANENT' THEN '1' ELSE '0' END AS permanent
FROM main.neighbors WHERE family = 'inet' AND state != 'NOARP';

CREATE TEMP VIEW IF NOT EXISTS routes AS
SELECT destination, prefix_len AS netmask, coalesce(gateway, '') AS gateway, coalesce(preferred_source, '') AS source,
       NULL AS flags, interface, coalesce(mtu, 0) AS mtu, coalesce(metric, 0) AS metric,
       CASE type WHEN 'unicast' THEN 'gateway' WHEN 'local' THEN 'local' WHEN 'broadcast' THEN 'broadcast'
                 WHEN 'anycast' THEN 'anycast' ELSE 'other' END AS type,
       NULL AS hopcount
FROM main.routes;
)sql";
}

namespace {

void osquery_compat(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  char* err = nullptr;
  if (sqlite3_exec(db, osquery_compat_sql(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string("netsql_osquery_compat: ") + (err ? err : "cannot create the views");
    sqlite3_free(err);
    return sqlite3_result_error(ctx, msg.c_str(), -1);
  }
  sqlite3_result_text(ctx, "listening_ports, process_open_sockets, arp_cache, routes", -1, SQLITE_STATIC);
}

}  // namespace

int register_osquery_compat(sqlite3* db) {
  // DIRECTONLY: it changes the schema, so no view or trigger may call it.
  return sqlite3_create_function_v2(db, "netsql_osquery_compat", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr,
                                    osquery_compat, nullptr, nullptr, nullptr);
}

}  // namespace netsql::vt
