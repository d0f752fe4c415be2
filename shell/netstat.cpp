#include "netstat.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <thread>

#include "usage.h"

namespace netsql::shell {

std::span<const NetstatFlag> netstat_flags() {
  using O = NetstatOptions;
  static constexpr NetstatFlag kFlags[] = {
      {'a', "--all", &O::all, "all sockets: listening and not"},
      {'l', "--listening", &O::listening, "listening sockets only (default: connected sockets only)"},
      {'t', "--tcp", &O::tcp, "TCP sockets"},
      {'u', "--udp", &O::udp, "UDP sockets"},
      {'w', "--raw", &O::raw, "raw sockets"},
      {'x', "--unix", &O::unix_, "Unix-domain sockets (with none of -t -u -w -x: all four kinds)"},
      {'4', nullptr, &O::v4, "IPv4 only"},
      {'6', nullptr, &O::v6, "IPv6 only"},
      {'n', "--numeric", &O::numeric, "numeric addresses and ports, not names from /etc/hosts and /etc/services"},
      {'p', "--program", &O::program, "PID/program name of each socket"},
      {'e', "--extend", &O::extend, "user id and inode"},
      {'o', "--timers", &O::timers, "TCP timers"},
      {'W', "--wide", &O::wide, "wide addresses (netsql never truncates them)"},
      {'c', "--continuous", &O::continuous, "print again every second until interrupted"},
      {'r', "--route", &O::route, "the kernel routing table (main table; -6: IPv6)"},
      {'i', "--interfaces", &O::interfaces, "the interface table (-a: down interfaces too)"},
      {'s', "--statistics", &O::statistics, "protocol counters, as Name: value under each protocol"},
      {'g', "--groups", &O::groups, "multicast group memberships"},
      {'M', "--masquerade", &O::masquerade,
       "NATed connections from the conntrack table (as root): masqueraded/SNAT and DNAT flows, with what each was "
       "translated to"},
      {0, "--sql", &O::sql, "print the SQL instead of running it; it runs unchanged in the stock sqlite3 shell after .load netsql"},
      {'h', "--help", &O::help, "print this usage and exit"},
  };
  return kFlags;
}

const Command& netstat_command() {
  static const Command c = [] {
    Command c{"netstat", "[-atuwx46lnpeoWcg] [-r|-i|-s|-M] [--sql]",
              "netstat's options and layout, answered by SQL over the netsql tables. Short options combine (-tanp). "
              "Without -n, ports and hosts are named from /etc/services and /etc/hosts only, never by a network lookup.",
              {}, Arg::None,
              {{"netstat -tanp", "every TCP socket and its program"},
               {"netstat -tlnp --sql", "the SQL behind the listening TCP ports"}}};
    for (const NetstatFlag& f : netstat_flags())
      c.options.push_back({f.letter ? std::string{'-', f.letter} : "", f.name ? f.name : "", "", Arg::None, f.doc});
    return c;
  }();
  return c;
}

NetstatOptions parse_netstat_options(const std::vector<std::string>& args) {
  NetstatOptions o;
  for (const auto& a : args) {
    if (a.rfind("--", 0) == 0) {
      const NetstatFlag* f = nullptr;
      for (const auto& g : netstat_flags())
        if (g.name && a == g.name) f = &g;
      if (!f) throw UsageError("unknown option " + a);
      o.*(f->field) = true;
    } else if (a.size() > 1 && a[0] == '-') {
      for (char c : a.substr(1)) {
        const NetstatFlag* f = nullptr;
        for (const auto& g : netstat_flags())
          if (g.letter == c) f = &g;
        if (!f) throw UsageError(std::string("unknown option -") + c);
        o.*(f->field) = true;
      }
    } else {
      throw UsageError("unexpected argument " + a);
    }
  }
  if (o.route + o.interfaces + o.statistics + o.masquerade > 1) throw UsageError("-r, -i, -s and -M exclude each other");
  return o;
}

namespace {

std::string family_filter(const NetstatOptions& o) {
  if (o.v4 && !o.v6) return " AND family = 'inet'";
  if (o.v6 && !o.v4) return " AND family = 'inet6'";
  return "";
}

// "address:port" as netstat writes it: names from the hosts and services
// files unless -n; port 0 is '*'.
std::string endpoint(const NetstatOptions& o, const char* addr, const char* port, const char* proto) {
  if (o.numeric) return fmt::format("{0} || ':' || CASE {1} WHEN 0 THEN '*' ELSE {1} END", addr, port);
  return fmt::format("host_name({0}) || ':' || CASE {1} WHEN 0 THEN '*' ELSE service_name({1}, '{2}') END", addr, port, proto);
}

std::string inet_sql(const NetstatOptions& o, const char* table, const char* proto) {
  bool tcp = std::string(proto) == "tcp";
  std::string cols = fmt::format(
      "'{0}' || CASE family WHEN 'inet6' THEN '6' ELSE '' END AS \"Proto\", recv_q AS \"Recv-Q\", "
      "CASE state WHEN 'LISTEN' THEN 0 ELSE send_q END AS \"Send-Q\", "
      "{1} AS \"Local Address\", {2} AS \"Foreign Address\", {3} AS \"State\"",
      proto, endpoint(o, "local_address", "local_port", proto), endpoint(o, "remote_address", "remote_port", proto),
      tcp ? "state" : "CASE state WHEN 'ESTABLISHED' THEN 'ESTABLISHED' ELSE '' END");
  if (o.extend) cols += ", uid AS \"User\", inode AS \"Inode\"";
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

// Raw sockets as netstat shows them: the protocol in the port's place and
// the kernel state as a number.
std::string raw_sql(const NetstatOptions& o) {
  std::string cols =
      "'raw' || CASE family WHEN 'inet6' THEN '6' ELSE '' END AS \"Proto\", recv_q AS \"Recv-Q\", send_q AS \"Send-Q\", "
      "local_address || ':' || protocol AS \"Local Address\", remote_address || ':*' AS \"Foreign Address\", "
      "CASE state WHEN 'ESTABLISHED' THEN '1' ELSE '7' END AS \"State\"";
  if (o.extend) cols += ", uid AS \"User\", inode AS \"Inode\"";
  if (o.program) cols += ", coalesce(pid || '/' || process, '-') AS \"PID/Program name\"";
  if (o.timers) cols += ", 'off (0.00/0/0)' AS \"Timer\"";
  std::string where = o.all ? "1" : o.listening ? "state = 'UNCONN'" : "state = 'ESTABLISHED'";
  return fmt::format("SELECT {} FROM raw_sockets WHERE {}{}", cols, where, family_filter(o));
}

std::string selection_title(const NetstatOptions& o) {
  return o.all ? "(servers and established)" : o.listening ? "(only servers)" : "(w/o servers)";
}

}  // namespace

std::vector<NetstatSection> netstat_sections(const NetstatOptions& o) {
  std::vector<NetstatSection> out;
  if (o.route) {
    if (o.v6 && !o.v4) {
      out.push_back({NetstatKind::Routes, "Kernel IPv6 routing table",
                     "SELECT destination || '/' || prefix_len AS \"Destination\", coalesce(gateway, '::') AS \"Next Hop\", "
                     "flags AS \"Flag\", metric AS \"Met\", 0 AS \"Ref\", 0 AS \"Use\", coalesce(interface, 'lo') AS \"If\" "
                     "FROM routes WHERE family = 'inet6' AND type != 'unspec' ORDER BY table_id DESC, prefix_len DESC"});
    } else {
      std::string dest = o.numeric ? "destination" : "CASE destination WHEN '0.0.0.0' THEN 'default' ELSE host_name(destination) END";
      std::string gw = o.numeric ? "coalesce(gateway, '0.0.0.0')" : "coalesce(host_name(gateway), '0.0.0.0')";
      out.push_back({NetstatKind::Routes, "Kernel IP routing table",
                     fmt::format("SELECT {} AS \"Destination\", {} AS \"Gateway\", netmask AS \"Genmask\", flags AS \"Flags\", "
                                 "coalesce(mtu, 0) AS \"MSS\", coalesce(window, 0) AS \"Window\", coalesce(irtt, 0) AS \"irtt\", "
                                 "coalesce(interface, '-') AS \"Iface\" FROM routes WHERE family = 'inet' AND table_id = 254",
                                 dest, gw)});
    }
    return out;
  }
  if (o.interfaces) {
    out.push_back({NetstatKind::Interfaces, "Kernel Interface table",
                   std::string("SELECT name AS \"Iface\", mtu AS \"MTU\", rx_packets AS \"RX-OK\", rx_errors AS \"RX-ERR\", "
                               "rx_dropped + rx_missed AS \"RX-DRP\", rx_fifo_errors AS \"RX-OVR\", tx_packets AS \"TX-OK\", "
                               "tx_errors AS \"TX-ERR\", tx_dropped AS \"TX-DRP\", tx_fifo_errors AS \"TX-OVR\", flags AS \"Flg\" "
                               "FROM interfaces") +
                       (o.all ? "" : " WHERE instr(flags, 'U') > 0") + " ORDER BY ifindex"});
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
    out.push_back({NetstatKind::Statistics, "", "SELECT protocol AS \"Proto\", name AS \"Counter\", value AS \"Value\" FROM protocol_stats" +
                           std::string(o.v4 && !o.v6 ? " WHERE protocol NOT LIKE '%6'" : o.v6 && !o.v4 ? " WHERE protocol LIKE '%6'" : "")});
    return out;
  }
  // As netstat: any of these options selects sections; none selects
  // Internet and unix sockets; -4/-6 without a protocol select every
  // Internet protocol; -g adds the groups between the two.
  bool any = o.tcp || o.udp || o.raw || o.unix_ || o.groups || o.v4 || o.v6;
  bool every_inet = !any || ((o.v4 || o.v6) && !(o.tcp || o.udp || o.raw));
  bool tcp = o.tcp || every_inet, udp = o.udp || every_inet, raw = o.raw || every_inet, unix_ = o.unix_ || !any;
  std::vector<std::string> parts;
  if (tcp) parts.push_back(inet_sql(o, "tcp_sockets", "tcp"));
  if (udp) parts.push_back(inet_sql(o, "udp_sockets", "udp"));
  if (raw) parts.push_back(raw_sql(o));
  if (!parts.empty()) {
    std::string sql = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) sql += "\nUNION ALL " + parts[i];
    out.push_back({NetstatKind::Sockets, "Active Internet connections " + selection_title(o), sql});
  }
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
        "'unix' AS \"Proto\", CASE WHEN peer_inode IS NULL THEN 1 ELSE 2 END AS \"RefCnt\", "
        "CASE state WHEN 'LISTEN' THEN '[ ACC ]' ELSE '[ ]' END AS \"Flags\", upper(type) AS \"Type\", "
        "CASE state WHEN 'LISTEN' THEN 'LISTENING' WHEN 'ESTABLISHED' THEN 'CONNECTED' ELSE '' END AS \"State\", "
        "inode AS \"I-Node\"";
    if (o.program) cols += ", coalesce(pid || '/' || process, '-') AS \"PID/Program name\"";
    cols += ", coalesce(path, '') AS \"Path\"";
    out.push_back({NetstatKind::Sockets, "Active UNIX domain sockets " + selection_title(o),
                   fmt::format("SELECT {} FROM unix_sockets WHERE {}", cols, where)});
  }
  return out;
}

namespace {

// netstat's column widths; negative: left-aligned.
int width_of(const std::string& col, NetstatKind kind) {
  if (kind == NetstatKind::Routes && col == "Flags") return -5;
  static const std::map<std::string, int> kWidths = {
      {"Proto", -5}, {"Recv-Q", 6}, {"Send-Q", 6}, {"Local Address", -23}, {"Foreign Address", -23}, {"State", -11},
      {"User", -10}, {"Inode", -10}, {"PID/Program name", -20}, {"Timer", -20}, {"RefCnt", -6}, {"Flags", -11},
      {"Type", -10}, {"I-Node", -8}, {"Destination", -15}, {"Gateway", -15}, {"Genmask", -15}, {"MSS", 5},
      {"Window", -6}, {"irtt", 4}, {"Iface", -16}, {"MTU", 5}, {"RX-OK", 8}, {"RX-ERR", 6}, {"RX-DRP", 6},
      {"RX-OVR", -6}, {"TX-OK", 8}, {"TX-ERR", 6}, {"TX-DRP", 6}, {"TX-OVR", -6}, {"Interface", -15},
      {"Group", -21}, {"Next Hop", -26}, {"prot", -4}, {"expire", 8}, {"source", -20}, {"destination", -20},
      {"ports", -16}, {"Flag", -4}, {"Met", 3}, {"Ref", 3}, {"Use", 3}, {"Next", -15}};
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
void print_rows(std::ostream& out, Rows& rows, NetstatKind kind) {
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
  line([&](size_t i) { return columns[i]; });
  if (kind == NetstatKind::Groups) out << "--------------- ------ ---------------------\n";
  while (rows.next()) line([&](size_t i) { return cell(rows.row()[i]); });
}

void print_statistics(std::ostream& out, Rows& rows) {
  std::string proto;
  while (rows.next()) {
    const auto& row = rows.row();
    std::string p = cell(row[0]);
    if (p != proto) out << (proto = p) << ":\n";
    out << "    " << cell(row[1]) << ": " << cell(row[2]) << "\n";
  }
}

}  // namespace

int run_netstat(Session& s, const NetstatOptions& o, std::ostream& out) {
  auto sections = netstat_sections(o);
  if (o.sql) {
    for (const auto& sec : sections) out << sec.sql << ";\n";
    return 0;
  }
  for (;;) {
    for (const auto& sec : sections) {
      try {
        Rows rows = s.query(sec.sql);
        if (sec.kind == NetstatKind::Statistics) {
          print_statistics(out, rows);
          continue;
        }
        out << sec.title << "\n";
        print_rows(out, rows, sec.kind);
      } catch (const std::exception& e) {
        out.flush();
        std::cerr << "Error: " << e.what() << "\n";
        return 1;
      }
    }
    out.flush();
    if (!o.continuous) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace netsql::shell
