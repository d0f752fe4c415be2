// What an osquery config means to `netsql schedule`: its `options` (the
// few that map onto ours; the rest ignored with a notice), which queries a
// host runs (`platform`, `shard`, as osquery decides them) and its
// top-level keys we accept without using. The parser in schedule.cpp
// calls these; the rules are osquery's (osquery/config/packs.cpp).
#pragma once

#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <string>

#include "schedule.h"

namespace netsql::shell {

// osquery's machine shard, 0 to 100: the first byte of the SHA-1 of the
// host name, scaled. A query or pack with "shard": N (1 to 100) runs on
// hosts whose shard is at most N.
int osquery_machine_shard(const std::string& hostname);

// `text` with osquery's comment lines (first non-blank characters # or
// //) blanked, so line numbers in JSON errors stay right.
std::string strip_osquery_comments(const std::string& text);

// SHA-1 of `data` as 40 lowercase hex digits (FIPS 180-4).
std::string sha1_hex(const std::string& data);

// osquery's platform test on Linux: empty, "null", or a text naming any,
// all, linux, ubuntu, centos or posix (comma lists included) runs here.
bool osquery_platform_matches(const std::string& platform);

// Top-level keys osquery's config parsers own that netsql does not use
// (file_paths, yara, views, ...): accepted with a notice. "" if `key` is
// not one of them, else the notice.
std::string osquery_ignored_root_key(const std::string& key);

// Applies osquery's `options` object to `c` (host_identifier,
// specified_identifier, schedule_epoch, logger_event_type, logger_path,
// pack_delimiter, schedule_default_interval); every other option is
// named in `c.notices` as ignored. Throws std::runtime_error("options
// \"KEY\": ...") for a value of the wrong shape.
void apply_osquery_options(const nlohmann::json& options, ScheduleConfig& c);

// Creates osquery's table names as TEMP views on `db` (vtabs/osquery_compat.cpp:
// listening_ports, process_open_sockets, arp_cache, routes). Throws
// std::runtime_error with SQLite's message.
void create_osquery_views(sqlite3* db);

}  // namespace netsql::shell
