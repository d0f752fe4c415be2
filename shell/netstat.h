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

struct NetstatOptions {
  bool all = false, listening = false, numeric = false, program = false, extend = false, timers = false;
  bool wide = false, continuous = false, v4 = false, v6 = false, sql = false;
  bool tcp = false, udp = false, raw = false, unix_ = false;
  bool route = false, interfaces = false, statistics = false, groups = false, masquerade = false;
  bool help = false;
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

// Parses netstat's options (short ones combine: -tanp). Throws UsageError,
// also for more than one of -r, -i, -s and -M (netstat refuses those too).
NetstatOptions parse_netstat_options(const std::vector<std::string>& args);

// What a section shows, which decides how its rows are printed.
enum class NetstatKind { Sockets, Routes, Interfaces, Statistics, Groups };

// One section of output: its title lines and the query that fills it.
struct NetstatSection {
  NetstatKind kind;
  std::string title;
  std::string sql;
};

// The sections netstat prints for these options, in its order: -r, -i,
// -s or -M alone (each wins over -g and the socket options); otherwise Internet
// sockets, then -g's groups, then unix sockets, each as netstat selects them.
std::vector<NetstatSection> netstat_sections(const NetstatOptions& o);

// Prints the sections in netstat's layout (or their SQL with --sql).
// Returns the exit status.
int run_netstat(Session& s, const NetstatOptions& o, std::ostream& out);

}  // namespace netsql::shell
