// netstat's command line: the option table (parser, --help, man page and
// completion read it) and its reading through the shared parser.
#include "command_line.h"
#include "netstat.h"
#include "usage.h"

namespace netsql::shell {

std::span<const NetstatFlag> netstat_flags() {
  using O = NetstatOptions;
  static constexpr NetstatFlag kFlags[] = {
      {'a', "--all", &O::all, "all sockets: listening and not"},
      {'l', "--listening", &O::listening, "listening sockets only (default: connected sockets only)"},
      {'t', "--tcp", &O::tcp, "TCP sockets"},
      {'u', "--udp", &O::udp, "UDP sockets"},
      {'U', "--udplite", &O::udplite,
       "UDP-Lite sockets: netsql has no UDP-Lite table, so the Internet section comes without them"},
      {'w', "--raw", &O::raw, "raw sockets"},
      {'S', "--sctp", &O::sctp,
       "SCTP sockets: netsql has no SCTP table; netstat's \"no support\" message and exit status 1, as netstat "
       "without /proc/net/sctp (after -t's sockets, and nothing after them; with -6 alone, nothing)"},
      {'x', "--unix", &O::unix_, "Unix-domain sockets (with none of -t -u -w -x: all four kinds)"},
      {'4', "--inet", &O::v4, "IPv4 only (as -A inet)"},
      {'6', "--inet6", &O::v6, "IPv6 only (as -A inet6)"},
      {'n', "--numeric", &O::numeric, "numeric addresses and ports, not names from /etc/hosts and /etc/services"},
      {0, "--numeric-hosts", &O::numeric_hosts, "numeric addresses, named ports"},
      {0, "--numeric-ports", &O::numeric_ports, "numeric ports, named addresses"},
      {0, "--numeric-users", &O::numeric_users, "numeric user ids (-e)"},
      {'N', "--symbolic", &O::symbolic, "resolve hardware names (accepted; netstat shows nothing different)"},
      {'p', "--programs", &O::program, "PID/program name of each socket (as root: every socket's)"},
      {'e', "--extend", &O::extend, "user and inode of sockets; Metric/Ref/Use with -r; ifconfig-style blocks with -i"},
      {'o', "--timers", &O::timers, "TCP timers"},
      {'W', "--wide", &O::wide, "wide addresses (netsql never truncates them)"},
      {'v', "--verbose", &O::verbose, "also name the address families this system has no support for"},
      {'c', "--continuous", &O::continuous, "print again every second until interrupted"},
      {'r', "--route", &O::route, "the kernel routing table (main table; -6: every IPv6 table, as /proc/net/ipv6_route)"},
      {'F', "--fib", &O::fib, "with -r: the routing table (the default)"},
      {'C', "--cache", &O::cache, "with -r: the routing cache (gone from Linux since 3.6: its header only)"},
      {'i', "--interfaces", &O::interfaces, "the interface table (-a: down interfaces too)"},
      {'s', "--statistics", &O::statistics,
       "protocol counters in netstat's sentences (-t, -u, -w: TCP, UDP, IP/ICMP only; -6: IPv6)"},
      {0, "--counters", &O::counters, "with -s: every counter as Name: value under its protocol, as the kernel names it"},
      {'g', "--groups", &O::groups, "multicast group memberships"},
      {'M', "--masquerade", &O::masquerade,
       "NATed connections from the conntrack table (as root): masqueraded/SNAT and DNAT flows, with what each was "
       "translated to"},
      {'Z', "--context", &O::context, "SELinux context of each socket (netstat's refusal when SELinux is off)"},
      {0, "--sql", &O::sql, "print the SQL instead of running it; it runs unchanged in the stock sqlite3 shell after .load netsql"},
      {'V', "--version", &O::version, "print netsql's version and the address families it lists, and exit"},
      {'h', "--help", &O::help, "print this usage and exit"},
  };
  return kFlags;
}

const Command& netstat_command() {
  static const Command c = [] {
    Command c{"netstat", "[-atuUwSx46lnNpeoWvcgZ] [-A AF[,AF...]] [-r|-i|-s|-M] [--sql]",
              "netstat's options and layout, answered by SQL over the netsql tables. Short options combine (-tanp); "
              "long ones may be shortened while unambiguous (--list); -V prints the version. Without -n, ports and hosts are named from "
              "/etc/services and /etc/hosts only, never by a network lookup.",
              {}, Arg::None,
              {{"netstat -tanp", "every TCP socket and its program"},
               {"netstat -tlnp --sql", "the SQL behind the listening TCP ports"},
               {"netstat -st", "TCP's counters in netstat's sentences"}}};
    for (const NetstatFlag& f : netstat_flags()) {
      c.options.push_back({f.letter ? std::string{'-', f.letter} : "", f.name ? f.name : "", "", Arg::None, f.doc});
      if (f.letter == '6')
        c.options.push_back({"-A", "--protocol", "AF[,AF...]", Arg::Text,
                             "address families: inet, inet6, unix (netstat's others, such as ipx, are not supported)"});
    }
    c.run = run_netstat_command;
    return c;
  }();
  return c;
}

namespace {

// The families netstat knows, as -A names them, with the name its
// "no support" message gives those this system lacks ("" for ours).
struct Family {
  const char* name;
  const char* missing;
};
constexpr Family kFamilies[] = {{"inet", ""},           {"inet6", ""},           {"unix", ""},
                                {"ipx", "AF IPX"},      {"ax25", "AF AX25"},     {"x25", "AF X25"},
                                {"netrom", "AF NETROM"}, {"rose", "AF ROSE"}};

void add_family(NetstatOptions& o, const std::string& name) {
  const Family* f = nullptr;
  for (const auto& k : kFamilies)
    if (name == k.name) f = &k;
  if (!f) throw NetstatRefusal("Unknown address family `" + name + "'.");
  o.families.push_back(name);
  if (*f->missing) o.unsupported.push_back(f->missing);
  if (name == "inet") o.v4 = true;
  if (name == "inet6") o.v6 = true;
  if (name == "unix") o.unix_ = true;
}

void add_families(NetstatOptions& o, const std::string& list) {
  size_t at = 0;
  for (;;) {
    size_t comma = list.find(',', at);
    add_family(o, list.substr(at, comma - at));
    if (comma == std::string::npos) return;
    at = comma + 1;
  }
}

void set(NetstatOptions& o, const NetstatFlag& f) {
  o.*(f.field) = true;
  if (f.letter == '4') o.families.push_back("inet");
  if (f.letter == '6') o.families.push_back("inet6");
  if (f.letter == 'x') o.families.push_back("unix");
}

}  // namespace

NetstatOptions parse_netstat_options(const std::vector<std::string>& args) {
  const Command& c = netstat_command();
  ParsedCommandLine line;
  if (std::string error = parse_options(c, args, line); !error.empty()) throw UsageError(error);
  if (!line.operands.empty()) throw UsageError("unexpected argument '" + line.operands[0] + "'");
  NetstatOptions o;
  for (const auto& [option, value] : line.options) {
    if (option->short_name == "-A") {
      add_families(o, value);
      continue;
    }
    for (const NetstatFlag& f : netstat_flags())
      if ((f.letter && option->short_name == std::string{'-', f.letter}) || (f.name && option->long_name == f.name))
        set(o, f);
  }
  // As netstat: -h and -V end the parse, before the modes are weighed.
  if (o.help || o.version) return o;
  if (o.route + o.interfaces + o.statistics + o.masquerade > 1) throw UsageError("-r, -i, -s and -M exclude each other");
  return o;
}

}  // namespace netsql::shell
