// `netsql netstat -s`: the protocol counters in net-tools' own sentences
// ("37 active connection openings"), section by section as netstat 2.10
// prints them, including its quirks (see netstat_stats.cpp).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace netsql::shell {

// Which counter tables netstat -s prints: -t selects Tcp and TcpExt, -u
// Udp, -w Ip and Icmp; none of them selects all. Tables netstat has no
// sentences for (IcmpMsg, IpExt, UdpLite, ...) print whatever the filter.
struct StatsFilter {
  bool tcp = true, udp = true, raw = true;
};

// Fed the counters in the kernel's file order, one at a time (rows of
// protocol_stats); writes netstat's lines as they come.
class StatsPrinter {
 public:
  StatsPrinter(std::ostream& out, StatsFilter filter) : out_(out), filter_(filter) {}
  // `protocol` and `name` as protocol_stats has them ("Tcp", "ActiveOpens";
  // "Ip6", "InReceives").
  void counter(const std::string& protocol, const std::string& name, int64_t value);

  struct Table;  // one of netstat's counter tables (netstat_stats.cpp)

 private:
  void begin(const std::string& protocol);
  void print(const std::string& title, uint64_t value);

  std::ostream& out_;
  StatsFilter filter_;
  std::string protocol_;
  const Table* table_ = nullptr;
  bool started_ = false;
  bool shown_ = false;  // the current table's counters are printed
  int state_ = 0;       // net-tools' `state`: which histogram the last line was in
};

}  // namespace netsql::shell
