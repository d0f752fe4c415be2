// `netsql netstat [OPTIONS]`: netstat's options and layout, answered by
// SQL over the netsql tables (--sql shows the SQL instead of running it).
#pragma once

#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "session.h"

namespace netsql::shell {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A refusal netstat itself prints alone and exits 1 for ("Unknown address
// family `foo'.").
struct NetstatRefusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NetstatOptions {
  bool all = false, listening = false, numeric = false, program = false, extend = false, timers = false;
  bool wide = false, continuous = false, v4 = false, v6 = false, sql = false;
  bool numeric_hosts = false, numeric_ports = false, numeric_users = false;
  bool tcp = false, udp = false, raw = false, unix_ = false;
  bool route = false, interfaces = false, statistics = false, groups = false, masquerade = false;
  bool verbose = false, symbolic = false, context = false, fib = false, cache = false, counters = false;
  bool udplite = false, sctp = false;
  bool help = false, version = false;
  // The address families named, in order (-4 inet, -6 inet6, -x unix,
  // -A LIST): netstat -s names them when it refuses them.
  std::vector<std::string> families;
  // Families netstat knows but this system (and netsql) does not: netstat
  // says so for each and exits 1 after its listing.
  std::vector<std::string> unsupported;
};

// One option: its letter (0 for none), long name, the field it sets and
// what it does. The parser, --help, the man page and the completion read
// this table.
struct NetstatFlag {
  char letter;
  const char* name;
  bool NetstatOptions::*field;
  const char* doc;
};
std::span<const NetstatFlag> netstat_flags();

// Parses netstat's options with the shared parser (shell/command_line.h;
// short ones combine: -tanp; long ones may be shortened while unambiguous).
// Throws UsageError in the shared parser's words, also for more than one of
// -r, -i, -s and -M (netstat refuses those too); NetstatRefusal for an
// address family netstat does not know.
NetstatOptions parse_netstat_options(const std::vector<std::string>& args);

// What a section shows, which decides how its rows are printed.
enum class NetstatKind { Sockets, Unix, Routes, Routes6, Interfaces, InterfaceBlocks, Statistics, Counters, Groups };

// One section of output: its title lines and the query that fills it.
struct NetstatSection {
  NetstatKind kind;
  std::string title;
  std::string sql;
  std::string header = "";  // netstat's header line where it is not the columns at their widths
};

// The sections netstat prints for these options, in its order: -r, -i,
// -s or -M alone (each wins over -g and the socket options); otherwise Internet
// sockets, then -g's groups, then unix sockets, each as netstat selects them.
std::vector<NetstatSection> netstat_sections(const NetstatOptions& o);

// -r's section (netstat_routes.cpp).
NetstatSection route_section(const NetstatOptions& o);
// -i's section, and -ie's blocks (netstat_interfaces.cpp).
NetstatSection interface_section(const NetstatOptions& o);
void print_interface_blocks(std::ostream& out, Rows& rows);

// Prints the sections in netstat's layout (or their SQL with --sql).
// Returns the exit status.
int run_netstat(Session& s, const NetstatOptions& o, std::ostream& out);
// `netsql netstat ARGS`: parses, prints, and returns the exit status (2
// for a usage error, with the usage).
int run_netstat_command(const std::vector<std::string>& args);

}  // namespace netsql::shell
