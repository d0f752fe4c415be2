// Port and host names as netstat shows them without -n, from the system's
// services and hosts files only: never a network lookup.
#pragma once

#include <sqlite3.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace netsql::shell {

// (port, "tcp"/"udp") -> name, from /etc/services text.
std::map<std::pair<int, std::string>, std::string> parse_services(std::string_view text);
// address text -> first name, from /etc/hosts text.
std::map<std::string, std::string> parse_hosts(std::string_view text);

// Registers service_name(port, proto) and host_name(address) on db: the
// name when the files know one, else the number or address unchanged.
void register_name_functions(sqlite3* db);

}  // namespace netsql::shell
