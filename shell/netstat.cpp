#include "netstat.h"

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "command_line.h"
#include "netstat_stats.h"
#include "usage.h"

namespace netsql::shell {

namespace {

std::string family_filter(const NetstatOptions& o) {
  if (o.v4 && !o.v6) return " AND family = 'inet'";
  if (o.v6 && !o.v4) return " AND family = 'inet6'";
  return "";
}

// An address as netstat writes it: with names, the IPv6 wildcard is "[::]".
std::string host(const NetstatOptions& o, const char* addr) {
  return o.numeric || o.numeric_hosts ? addr : fmt::format("CASE {0} WHEN '::' THEN '[::]' ELSE host_name({0}) END", addr);
}

// "address:port" as netstat writes it: names from the hosts and services
// files unless -n; port 0 is '*'.
std::string endpoint(const NetstatOptions& o, const char* addr, const char* port, const char* proto) {
  std::string name = o.numeric || o.numeric_ports ? port : fmt::format("service_name({}, '{}')", port, proto);
  return fmt::format("{} || ':' || CASE {} WHEN 0 THEN '*' ELSE {} END", host(o, addr), port, name);
}

// -e's owner (named from /etc/passwd unless -n or --numeric-users) and inode.
std::string user_cols(const NetstatOptions& o) {
  return o.numeric || o.numeric_users ? ", uid AS \"User\", inode AS \"Inode\""
                                      : ", user_name(uid) AS \"User\", inode AS \"Inode\"";
}

std::string inet_sql(const NetstatOptions& o, const char* table, const char* proto) {
  bool tcp = std::string(proto) == "tcp";
  std::string cols = fmt::format(
      "'{0}' || CASE family WHEN 'inet6' THEN '6' ELSE '' END AS \"Proto\", recv_q AS \"Recv-Q\", "
      "CASE state WHEN 'LISTEN' THEN 0 ELSE send_q END AS \"Send-Q\", "
      "{1} AS \"Local Address\", {2} AS \"Foreign Address\", {3} AS \"State\"",
      proto, endpoint(o, "local_address", "local_port", proto), endpoint(o, "remote_address", "remote_port", proto),
      tcp ? "state" : "CASE state WHEN 'ESTABLISHED' THEN 'ESTABLISHED' ELSE '' END");
  if (o.extend) cols += user_cols(o);
  if (o.program) cols += ", coalesce(pid || '/' || process, '-') AS \"PID/Program name\"";
  if (o.timers)
    cols += tcp ? ", timer || ' (' || printf('%.2f', timer_expires_ms / 1000.0) || '/' || retransmits || '/0)' AS \"Timer\""
                : ", 'off (0.00/0/0)' AS \"Timer\"";
  std::string where;
  if (o.listening && !o.all) where = tcp ? "state = 'LISTEN'" : "state = 'UNCONN'";
  else if (!o.all) where = tcp ? "state != 'LISTEN'" : "state = 'ESTABLISHED'";
  else where = "1";
  return fmt::format("SELECT {} FROM {} WHERE {}{}", cols, table, where, family_filter(o));
}

// Raw sockets as netstat shows them: the protocol in the port's place
// (named from /etc/protocols without -n) and the kernel state as a number.
std::string raw_sql(const NetstatOptions& o) {
  std::string cols = fmt::format(
      "'raw' || CASE family WHEN 'inet6' THEN '6' ELSE '' END AS \"Proto\", recv_q AS \"Recv-Q\", send_q AS \"Send-Q\", "
      "{} || ':' || {} AS \"Local Address\", {} || ':*' AS \"Foreign Address\", "
      "CASE state WHEN 'ESTABLISHED' THEN '1' ELSE '7' END AS \"State\"",
      host(o, "local_address"), o.numeric || o.numeric_ports ? "protocol" : "protocol_name(protocol)",
      host(o, "remote_address"));
  if (o.extend) cols += user_cols(o);
  if (o.program) cols += ", coalesce(pid || '/' || process, '-') AS \"PID/Program name\"";
  if (o.timers) cols += ", 'off (0.00/0/0)' AS \"Timer\"";
  std::string where = o.all ? "1" : o.listening ? "state = 'UNCONN'" : "state = 'ESTABLISHED'";
  return fmt::format("SELECT {} FROM raw_sockets WHERE {}{}", cols, where, family_filter(o));
}

// The kernel's reference count of a unix socket, which /proc/net/unix
// shows and sock_diag does not: 2, plus one for each socket connected to
// it (a stream socket's peer; a datagram socket's clients).
constexpr const char* kUnixRefCnt =
    "CASE WHEN u.type != 'dgram' THEN 2 + (u.peer_inode IS NOT NULL) ELSE 2 + (SELECT count(*) FROM unix_sockets c "
    "WHERE c.state = 'ESTABLISHED' AND c.peer_inode = u.inode) END";

std::string selection_title(const NetstatOptions& o) {
  return o.all ? "(servers and established)" : o.listening ? "(only servers)" : "(w/o servers)";
}

// netstat -s reads one family's files: IPv4's (the default) or IPv6's.
std::string statistics_refusal(const NetstatOptions& o) {
  if (o.families.empty() || o.families == std::vector<std::string>{"inet"} || o.families == std::vector<std::string>{"inet6"})
    return "";
  std::string list;
  for (const auto& f : o.families) list += (list.empty() ? "" : ",") + f;
  return "netstat: No statistics support for specified address family: " + list;
}

// -S in a socket listing, with IPv4 among the families: netstat has no
// /proc/net/sctp to read (it lists IPv6's SCTP from the same file, quietly).
bool sctp_refused(const NetstatOptions& o) {
  return o.sctp && !(o.route || o.interfaces || o.statistics || o.masquerade) && !(o.v6 && !o.v4);
}

StatsFilter statistics_filter(const NetstatOptions& o) {
  if (!o.tcp && !o.udp && !o.raw && !o.udplite && !o.sctp) return {};  // as netstat: -U, -S filter too
  return {o.tcp, o.udp, o.raw};
}

}  // namespace

std::vector<NetstatSection> netstat_sections(const NetstatOptions& o) {
  std::vector<NetstatSection> out;
  if (o.route) {
    out.push_back(route_section(o));
    return out;
  }
  if (o.interfaces) {
    out.push_back(interface_section(o));
    return out;
  }
  if (o.masquerade) {
    // net-tools read /proc/net/ip_masquerade, gone since Linux 2.4 (it says
    // "no support for `ip_masquerade' on this system"); its layout, with
    // the translation spelled out, from conntrack.
    std::string src = o.numeric ? "src" : "host_name(src)", dst = o.numeric ? "dst" : "host_name(dst)";
    std::string family = o.v4 && !o.v6 ? " AND family = 'ipv4'" : o.v6 && !o.v4 ? " AND family = 'ipv6'" : "";
    out.push_back({NetstatKind::Sockets, "IP masquerade connections",
                   fmt::format("SELECT protocol AS \"prot\", printf('%02d:%02d.00', timeout / 60, timeout % 60) AS \"expire\", "
                               "{} AS \"source\", {} AS \"destination\", "
                               "coalesce(sport || ' -> ' || dport, '') AS \"ports\", "
                               "ltrim(coalesce('source ' || snat_address || coalesce(':' || snat_port, ''), '') || "
                               "coalesce(', destination ' || dnat_address || coalesce(':' || dnat_port, ''), ''), ', ') "
                               "AS \"translated to\" "
                               "FROM conntrack WHERE (snat_address IS NOT NULL OR dnat_address IS NOT NULL){} "
                               "ORDER BY protocol, src, sport",
                               src, dst, family)});
    return out;
  }
  if (o.statistics) {
    const char* cols = "SELECT protocol AS \"Proto\", name AS \"Counter\", value AS \"Value\" FROM protocol_stats";
    if (o.counters) {
      out.push_back({NetstatKind::Counters, "", std::string(cols) + (o.v4 && !o.v6 ? " WHERE protocol NOT GLOB '*6'" : o.v6 && !o.v4 ? " WHERE protocol GLOB '*6'" : "")});
    } else if (statistics_refusal(o).empty()) {
      // As netstat: IPv4's files (snmp, then netstat), or with -6 snmp6 and
      // then the Tcp line of snmp; in the kernel's order.
      if (o.families.empty() || o.families[0] == "inet") {
        out.push_back({NetstatKind::Statistics, "", std::string(cols) + " WHERE protocol NOT GLOB '*6'"});
      } else {
        out.push_back({NetstatKind::Statistics, "", std::string(cols) + " WHERE protocol GLOB '*6'"});
        out.push_back({NetstatKind::Statistics, "", std::string(cols) + " WHERE protocol = 'Tcp'"});
      }
    }
    return out;
  }
  // As netstat: any of these options selects sections; none selects
  // Internet and unix sockets; -4/-6 without a protocol select every
  // Internet protocol; -g adds the groups between the two.
  bool any = o.tcp || o.udp || o.udplite || o.sctp || o.raw || o.unix_ || o.groups || o.v4 || o.v6;
  bool every_inet = !any || ((o.v4 || o.v6) && !(o.tcp || o.udp || o.udplite || o.sctp || o.raw));
  bool tcp = o.tcp || every_inet, udp = o.udp || every_inet, raw = o.raw || every_inet, unix_ = o.unix_ || !any;
  // netstat stops at SCTP, which follows TCP, when it has no SCTP to show.
  const bool stop = sctp_refused(o);
  std::vector<std::string> parts;
  if (tcp) parts.push_back(inet_sql(o, "tcp_sockets", "tcp"));
  if (udp && !stop) parts.push_back(inet_sql(o, "udp_sockets", "udp"));
  if (raw && !stop) parts.push_back(raw_sql(o));
  // -U and -S alone: netstat's header over no rows (netsql has no UDP-Lite
  // or SCTP table).
  if (parts.empty() && (o.udplite || o.sctp)) parts.push_back(inet_sql(o, "tcp_sockets", "tcp") + " LIMIT 0");
  if (!parts.empty()) {
    std::string sql = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) sql += "\nUNION ALL " + parts[i];
    out.push_back({NetstatKind::Sockets, "Active Internet connections " + selection_title(o), sql});
  }
  if (stop) return out;
  if (o.groups) {
    std::string group = o.numeric ? "group_address" : "host_name(group_address)";
    out.push_back({NetstatKind::Groups, "IPv6/IPv4 Group Memberships",
                   fmt::format("SELECT interface AS \"Interface\", users AS \"RefCnt\", {} AS \"Group\" FROM multicast_groups "
                               "WHERE family IN ('inet', 'inet6'){} ORDER BY family = 'inet6'",
                               group, family_filter(o))});
  }
  if (unix_) {
    std::string where = o.listening && !o.all ? "state = 'LISTEN'" : !o.all ? "state != 'LISTEN'" : "1";
    std::string cols =
        "'unix' AS \"Proto\", " + std::string(kUnixRefCnt) + " AS \"RefCnt\", "
        "CASE state WHEN 'LISTEN' THEN '[ ACC ]' ELSE '[ ]' END AS \"Flags\", upper(type) AS \"Type\", "
        "CASE state WHEN 'LISTEN' THEN 'LISTENING' WHEN 'ESTABLISHED' THEN 'CONNECTED' ELSE '' END AS \"State\", "
        "inode AS \"I-Node\"";
    if (o.program) cols += ", coalesce(pid || '/' || process, '-') AS \"PID/Program name\"";
    cols += ", coalesce(path, '') AS \"Path\"";
    out.push_back({NetstatKind::Unix, "Active UNIX domain sockets " + selection_title(o),
                   fmt::format("SELECT {} FROM unix_sockets u WHERE {}", cols, where)});
  }
  return out;
}

namespace {

// netstat's column widths; negative: left-aligned.
int width_of(const std::string& col, NetstatKind kind) {
  static const std::map<std::string, int> kRoutes6 = {{"Destination", -30}, {"Next Hop", -26}, {"Flag", -4},
                                                       {"Met", -3},          {"Ref", -1},       {"Use", 6}};
  static const std::map<std::string, int> kRoutes = {{"Flags", -5}, {"Metric", -6}, {"Ref", -6}, {"Use", 3}, {"Source", -15}};
  static const std::map<std::string, int> kUnix = {{"State", -13}};
  static const std::map<std::string, int> kInterfaces = {{"Iface", -15}};
  static const std::map<std::string, int> kWidths = {
      {"Proto", -5}, {"Recv-Q", 6}, {"Send-Q", 6}, {"Local Address", -23}, {"Foreign Address", -23}, {"State", -11},
      {"User", -10}, {"Inode", -10}, {"PID/Program name", -20}, {"Timer", -20}, {"RefCnt", -6}, {"Flags", -11},
      {"Type", -10}, {"I-Node", -8}, {"Destination", -15}, {"Gateway", -15}, {"Genmask", -15}, {"MSS", 5},
      {"Window", -6}, {"irtt", 5}, {"Iface", -16}, {"MTU", 5}, {"RX-OK", 8}, {"RX-ERR", 6}, {"RX-DRP", 6},
      {"RX-OVR", -6}, {"TX-OK", 8}, {"TX-ERR", 6}, {"TX-DRP", 6}, {"TX-OVR", 6}, {"Interface", -15},
      {"Group", -21}, {"prot", -4}, {"expire", 8}, {"source", -20}, {"destination", -20}, {"ports", -16}};
  const auto& special = kind == NetstatKind::Routes6  ? kRoutes6
                        : kind == NetstatKind::Routes ? kRoutes
                        : kind == NetstatKind::Unix   ? kUnix
                        : kind == NetstatKind::Interfaces ? kInterfaces
                                                          : kWidths;
  if (auto it = special.find(col); it != special.end()) return it->second;
  auto it = kWidths.find(col);
  return it == kWidths.end() ? -1 : it->second;
}

std::string cell(const Value& v) {
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (auto s = std::get_if<std::string>(&v)) return *s;
  return "";
}

// Writes each row as it is stepped: netstat's widths are fixed, so
// nothing needs to be held back.
void print_rows(std::ostream& out, Rows& rows, const NetstatSection& sec) {
  NetstatKind kind = sec.kind;
  const auto& columns = rows.columns();
  auto line = [&](auto get) {
    std::string s;
    for (size_t i = 0; i < columns.size(); ++i) {
      int w = width_of(columns[i], kind);
      std::string v = get(i);
      if (i) s += ' ';
      s += w < 0 ? fmt::format("{:<{}}", v, -w) : fmt::format("{:>{}}", v, w);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  if (sec.header.empty()) line([&](size_t i) { return columns[i]; });
  else out << sec.header << "\n";
  if (kind == NetstatKind::Groups) out << "--------------- ------ ---------------------\n";
  while (rows.next()) line([&](size_t i) { return cell(rows.row()[i]); });
}

void print_counters(std::ostream& out, Rows& rows) {
  std::string proto;
  while (rows.next()) {
    const auto& row = rows.row();
    std::string p = cell(row[0]);
    if (p != proto) out << (proto = p) << ":\n";
    out << "    " << cell(row[1]) << ": " << cell(row[2]) << "\n";
  }
}

// netstat's note when -p cannot see every process: whether it could read
// any other process's sockets decides which.
void warn_unprivileged(Session& s) {
  bool found = false;
  try {
    Rows rows = s.query(fmt::format("SELECT 1 FROM process_open_files WHERE type = 'socket' AND pid != {} LIMIT 1", getpid()));
    found = rows.next();
  } catch (const std::exception&) {
  }
  if (found)
    std::cerr << "(Not all processes could be identified, non-owned process info\n"
                 " will not be shown, you would have to be root to see it all.)\n";
  else
    std::cerr << "(No info could be read for \"-p\": geteuid()=" << geteuid() << " but you should be root.)\n";
}

}  // namespace

int run_netstat(Session& s, const NetstatOptions& o, std::ostream& out) {
  auto sections = netstat_sections(o);
  if (o.sql) {
    for (const auto& sec : sections) out << sec.sql << ";\n";
    return 0;
  }
  if (o.statistics && !o.counters && !statistics_refusal(o).empty()) {
    out << statistics_refusal(o) << "\n";
    return 1;
  }
  if (o.context) {
    // netsql reads no socket's security context; netstat's own refusal
    // where SELinux is off (the usual case), ours where it is on.
    bool selinux = access("/sys/fs/selinux/enforce", F_OK) == 0;
    (selinux ? std::cerr : out) << (selinux ? "netsql netstat: -Z: socket security contexts are not available"
                                            : "SELinux is not enabled on this machine.")
                                << "\n";
    return 1;
  }
  int status = 0;
  for (const auto& family : o.unsupported) {
    std::cerr << "netstat: no support for `" << family << "' on this system.\n";
    status = 1;
  }
  if (o.verbose && !o.tcp && !o.udp && !o.raw && !o.unix_ && o.families.empty() && !o.groups && !o.route &&
      !o.interfaces && !o.statistics && !o.masquerade)
    for (const char* family : {"AF INET (sctp)", "AF IPX", "AF AX25", "AF X25", "AF NETROM", "AF ROSE"})
      std::cerr << "netstat: no support for `" << family << "' on this system.\n";
  if (o.program && geteuid() != 0) warn_unprivileged(s);
  for (;;) {
    StatsPrinter stats(out, statistics_filter(o));
    for (const auto& sec : sections) {
      try {
        Rows rows = s.query(sec.sql);
        if (sec.kind == NetstatKind::Counters) {
          print_counters(out, rows);
          continue;
        }
        if (sec.kind == NetstatKind::Statistics) {
          while (rows.next()) {
            const auto& row = rows.row();
            stats.counter(cell(row[0]), cell(row[1]), std::get<int64_t>(row[2]));
          }
          continue;
        }
        out << sec.title << "\n";
        if (sec.kind == NetstatKind::InterfaceBlocks) print_interface_blocks(out, rows);
        else print_rows(out, rows, sec);
      } catch (const std::exception& e) {
        out.flush();
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
      }
    }
    out.flush();
    if (sctp_refused(o)) {
      std::cerr << "netstat: no support for `AF INET (sctp)' on this system.\n";
      return 1;
    }
    if (!o.continuous) return status;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int run_netstat_command(const std::vector<std::string>& args) {
  try {
    NetstatOptions o = parse_netstat_options(args);
    if (o.help) {
      std::cout << help_text(netstat_command());
      return 0;
    }
    if (o.version) {
      // As netstat -V: the version, then the address families compiled in.
      std::cout << version_text() << "\n"
                << "netstat's options and layout, answered by SQL over the netsql tables\n"
                << "AF: (inet) +UNIX +INET +INET6 -IPX -AX25 -NETROM -X25 -ROSE -SCTP -UDPLITE\n";
      return 0;
    }
    Session s(":memory:");
    return run_netstat(s, o, std::cout);
  } catch (const UsageError& e) {
    return usage_error(netstat_command(), e.what());
  } catch (const NetstatRefusal& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace netsql::shell
