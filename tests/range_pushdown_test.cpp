// Range, complement and subnet pushdown on the socket tables: local_port /
// remote_port with <, <=, >, >= (and BETWEEN), state != ..., and the SQL
// function in_subnet(address, prefix). Each query must give the rows `ss`
// gives for its own filter, the rows SQLite gives with the pushdown
// defeated (+column, column || ''), and the kernel must have sent only
// those rows.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "support.h"

namespace netsql::test {
namespace {

std::string str(long long v) { return std::to_string(v); }

// The tuples `ss -H -n -ta FILTER` prints, both families at once (ss_tuples
// asks -4 and -6 apart, which hides IPv4-mapped sockets from an IPv4
// prefix and refuses it for -6). This ss writes the IPv6 wildcard as '*'
// and the IPv4 one as 0.0.0.0.
std::set<Tuple> ss_both(const std::string& filter) {
  static const std::map<std::string, std::string> kStates = {{"ESTAB", "ESTABLISHED"}, {"LISTEN", "LISTEN"}};
  auto split = [](const std::string& s) {
    size_t colon = s.rfind(':');
    std::string addr = s.substr(0, colon), port = s.substr(colon + 1);
    if (!addr.empty() && addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
    if (addr == "*") addr = "::";
    return std::make_pair(addr, port == "*" ? 0 : std::stoi(port));
  };
  std::set<Tuple> out;
  std::istringstream in(run("ss -H -n -ta " + filter));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string state, rq, sq, local, peer;
    if (!(ls >> state >> rq >> sq >> local >> peer)) continue;
    auto [la, lp] = split(local);
    auto [ra, rp] = split(peer);
    auto it = kStates.find(state);
    out.emplace(it == kStates.end() ? state : it->second, la, lp, ra, rp);
  }
  return out;
}

// A world of known sockets: IPv4 listeners on 127.0.0.1 ports 1, 1023,
// 1024, 1025 and 65535, one on 10.1.2.3:1024, one on [::1]:1024, a
// dual-stack listener on [::]:2000; connections 127.0.0.1 -> :1023,
// 10.1.2.3 -> 127.0.0.1:2000 (its server end IPv4-mapped) and
// ::1 -> [::1]:1024.
class RangePushdown : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    sh("ip addr add 10.1.2.3/8 dev lo");
    for (int p : {1, 1023, 1024, 1025, 65535}) fds_.push_back(tcp_listener("127.0.0.1", p));
    fds_.push_back(tcp_listener("10.1.2.3", 1024));
    fds_.push_back(tcp_listener("::1", 1024));
    int dual = tcp_listener("::", 2000);
    fds_.push_back(dual);
    fds_.push_back(tcp_connect("127.0.0.1", 1023));
    fds_.push_back(tcp_accept(fds_[1]));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x0a010203);
    ASSERT_EQ(bind(c, reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(2000);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    fds_.push_back(c);
    fds_.push_back(tcp_accept(dual));
    fds_.push_back(tcp_connect("::1", 1024));
    fds_.push_back(tcp_accept(fds_[6]));
    db_holder_.emplace();  // in the private namespace
    ASSERT_EQ(db().scalar("SELECT count(*) FROM tcp_sockets"), 14);
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
  }

  // The tuples of `table` WHERE `where`; checks that the kernel sent no
  // more rows than SQLite kept (the filter ran in the kernel).
  std::set<Tuple> ours(const std::string& where, const std::string& table = "tcp_sockets", bool kernel_exact = true) {
    std::set<Tuple> out;
    for (auto& r : db().rows("SELECT state, local_address, local_port, remote_address, remote_port FROM " + table +
                            " WHERE " + where))
      out.emplace(*r[0], *r[1], std::stoi(*r[2]), *r[3], std::stoi(*r[4]));
    if (kernel_exact) {
      EXPECT_EQ(last_scan(db(), "kernel_rows", table), Row{str(out.size())}) << where;
    }
    return out;
  }
  std::string plan(const std::string& where, const std::string& table = "tcp_sockets") {
    auto rows = db().rows("EXPLAIN QUERY PLAN SELECT * FROM " + table + " WHERE " + where);
    return rows.empty() || !rows[0][3] ? "" : *rows[0][3];
  }

  std::vector<int> fds_;
  std::optional<Db> db_holder_;
  Db& db() { return *db_holder_; }
};

TEST_F(RangePushdown, PortComparisonsGiveWhatSsAndSqliteGive) {
  const std::pair<const char*, const char*> kColumns[] = {{"local_port", "sport"}, {"remote_port", "dport"}};
  const char* kOps[] = {"<", "<=", ">", ">="};
  const char* kPlan[] = {"LT", "LE", "GT", "GE"};
  for (auto [column, ss_name] : kColumns)
    for (int o = 0; o < 4; ++o)
      for (long long v : {0, 1, 1023, 1024, 65535, 65536, -1}) {
        std::string where = std::string(column) + " " + kOps[o] + " " + str(v);
        SCOPED_TRACE(where);
        auto rows = ours(where);
        EXPECT_EQ(rows, ours("CAST(" + std::string(column) + " AS INTEGER) " + kOps[o] + " " + str(v), "tcp_sockets", false));
        if (v >= 0 && v <= 65535) {  // ss reads other numbers as other ports
          EXPECT_EQ(rows, ss_both("'" + std::string(ss_name) + " " + kOps[o] + " :" + str(v) + "'"));
        }
        EXPECT_NE(plan(where).find(std::string(column) + " " + kPlan[o]), std::string::npos) << plan(where);
      }
  // A bound no port can pass asks the kernel nothing.
  for (const char* none : {"local_port < 0", "local_port > 65535", "remote_port <= -1", "remote_port >= 65536",
                           "local_port > 9223372036854775807", "local_port < -9223372036854775808"}) {
    EXPECT_TRUE(ours(none).empty()) << none;
    EXPECT_EQ(last_scan(db(), "requests"), Row{"0"}) << none;
  }
}

TEST_F(RangePushdown, BetweenAndInListsCombineWithRanges) {
  EXPECT_EQ(ours("local_port BETWEEN 1023 AND 1025"), ss_both("'sport >= :1023 and sport <= :1025'"));
  EXPECT_NE(plan("local_port BETWEEN 1023 AND 1025").find("local_port GE,local_port LE"), std::string::npos);
  EXPECT_EQ(last_scan(db(), "bytecode_columns, bytecode_bytes"), (Row{"local_port", "16"}));
  EXPECT_EQ(ours("remote_port BETWEEN 1 AND 2000"), ss_both("'dport >= :1 and dport <= :2000'"));
  EXPECT_EQ(ours("local_port IN (1, 1024, 2000, 65535) AND local_port > 1023"),
            ours("local_port IN (1, 1024, 2000, 65535) AND CAST(local_port AS INTEGER) > 1023", "tcp_sockets", false));
  auto rows = ours("local_port IN (1, 1024, 2000, 65535) AND local_port > 1023");
  EXPECT_EQ(rows.size(), 7u);  // 1024: three listeners and a server end; 2000: two; 65535
  EXPECT_TRUE(ours("local_port IN (1, 1023) AND local_port >= 1024").empty());
  EXPECT_EQ(last_scan(db(), "requests"), Row{"0"});
  EXPECT_TRUE(ours("local_port BETWEEN 1025 AND 1024").empty());
  EXPECT_EQ(last_scan(db(), "requests"), Row{"0"});
}

// A value that is no integer is compared by SQLite alone ('abc' is greater
// than every integer, NULL matches nothing): the kernel gets no port test.
TEST_F(RangePushdown, NonIntegerBoundsAreLeftToSqlite) {
  for (const char* v : {"'abc'", "1.5", "NULL", "'1024'", "x'00'", "1023.5"})
    for (const char* op : {"<", "<=", ">", ">="}) {
      std::string where = std::string("local_port ") + op + " " + v;
      SCOPED_TRACE(where);
      // CAST(...) is no column (nothing is pushed) but compares as one.
      EXPECT_EQ(ours(where, "tcp_sockets", false), ours(std::string("CAST(local_port AS INTEGER) ") + op + " " + v, "tcp_sockets", false));
      EXPECT_EQ(last_scan(db(), "bytecode_columns"), Row{""});
    }
  EXPECT_EQ(ours("local_port > 1024.0"), ss_both("'sport > :1024'"));  // an integer after all
  EXPECT_EQ(last_scan(db(), "bytecode_columns"), Row{"local_port"});
}

TEST_F(RangePushdown, StateNotEqualAsksForTheComplement) {
  EXPECT_EQ(ours("state != 'LISTEN'"), ss_both("exclude listening"));
  EXPECT_EQ(last_scan(db(), "state_mask"), Row{str(8190 & ~(1 << 10))});
  EXPECT_NE(plan("state != 'LISTEN'").find("state NE"), std::string::npos);
  EXPECT_TRUE(ours("state != 'LISTEN' AND state <> 'ESTABLISHED'").empty());
  EXPECT_EQ(last_scan(db(), "state_mask"), Row{str(8190 & ~(1 << 10) & ~(1 << 1))});
  EXPECT_EQ(ours("state IN ('LISTEN', 'ESTABLISHED') AND state != 'LISTEN'"), ss_both("exclude listening"));
  EXPECT_EQ(last_scan(db(), "state_mask"), Row{"2"});
  // SQLite does not offer NOT IN to a virtual table: it filters it itself.
  EXPECT_EQ(plan("state NOT IN ('LISTEN', 'CLOSE')").find("state"), std::string::npos);
  EXPECT_EQ(ours("state NOT IN ('LISTEN', 'CLOSE')", "tcp_sockets", false), ss_both("exclude listening"));
  EXPECT_EQ(db().error("SELECT * FROM tcp_sockets WHERE state != 'LISTENING'").rfind("tcp_sockets: invalid state 'LISTENING'", 0),
            0u);
  EXPECT_EQ(ours("state != 42", "tcp_sockets", false).size(), 14u);  // no state is 42
  int u = udp_socket("127.0.0.1", 0), v = udp_socket("127.0.0.1", 0, "127.0.0.1", 1);
  // (Each scan on its own line: last_scan reads the latest one, and the
  // order arguments are evaluated in is the compiler's choice.)
  auto unfiltered = ours("+state != 'UNCONN'", "udp_sockets", false);
  EXPECT_EQ(ours("state != 'UNCONN'", "udp_sockets"), unfiltered);
  EXPECT_EQ(last_scan(db(), "state_mask", "udp_sockets"), Row{"2"});
  EXPECT_EQ(ours("local_port > 0 AND remote_port < 2", "udp_sockets").size(), 2u);
  close(u);
  close(v);
}

TEST_F(RangePushdown, SubnetsRunInTheKernel) {
  struct Case {
    std::string where, ss;
  };
  const Case kCases[] = {
      {"in_subnet(remote_address, '10.0.0.0/8')", "dst 10.0.0.0/8"},  // the IPv4-mapped peer too
      {"in_subnet(local_address, '10.0.0.0/8')", "src 10.0.0.0/8"},
      {"in_subnet(local_address, '127.0.0.0/8')", "src 127.0.0.0/8"},
      {"in_subnet(local_address, '127.0.0.1')", "src 127.0.0.1"},
      {"in_subnet(local_address, '::/0')", "src ::/0"},
      {"in_subnet(remote_address, '::1/128')", "dst ::1/128"},
      {"in_subnet(local_address, '0.0.0.0/0') AND local_port >= 1024", "src 0.0.0.0/0 and sport >= :1024"},
      {"in_subnet(remote_address, '10.1.2.0/25') AND in_subnet(remote_address, '10.0.0.0/8')",
       "dst 10.1.2.0/25 and dst 10.0.0.0/8"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.where);
    auto rows = ours(c.where);
    EXPECT_FALSE(rows.empty());
    EXPECT_EQ(rows, ss_both("'" + c.ss + "'"));
    std::string plain = c.where;  // address || '' is no column: SQLite alone
    for (std::string col : {"remote_address", "local_address"})
      for (size_t at = 0; (at = plain.find(col + ",", at)) != std::string::npos; at += col.size())
        plain.replace(at, col.size() + 1, col + " || '',");
    EXPECT_EQ(rows, ours(plain, "tcp_sockets", false));
    EXPECT_EQ(plan(plain).find("in_subnet"), std::string::npos) << plan(plain);
  }
  EXPECT_NE(plan("in_subnet(remote_address, '10.0.0.0/8')").find("remote_address in_subnet"), std::string::npos);
  EXPECT_EQ(ours("IN_SUBNET(local_address, '10.0.0.0/8')").size(), 2u);  // any case
  EXPECT_EQ(last_scan(db(), "bytecode_columns, bytecode_bytes"), (Row{"local_address", "16"}));
  // NULL matches nothing; a malformed prefix is an error naming it.
  EXPECT_TRUE(ours("in_subnet(local_address, NULL)").empty());
  EXPECT_EQ(last_scan(db(), "requests"), Row{"0"});
  EXPECT_EQ(db().error("SELECT * FROM tcp_sockets WHERE in_subnet(remote_address, '10.0.0.0/33')"),
            "tcp_sockets: in_subnet: malformed prefix '10.0.0.0/33' (expected ADDRESS/LENGTH such as '10.0.0.0/8' or "
            "'fd00::/8', LENGTH at most 32 for IPv4 and 128 for IPv6)");
}

// SQLite answers an OR of two pushable terms with one scan per branch,
// dropping rows of the second whose rowid the first returned: rowids must
// name sockets (the cookie), not positions in a scan.
TEST_F(RangePushdown, OrOfPushedTermsLosesNoRow) {
  for (std::string where : {"state = 'ESTABLISHED' OR local_port > 1024",
                            "in_subnet(remote_address, '10.0.0.0/8') OR local_port BETWEEN 1 AND 1023",
                            "local_port = 1024 OR remote_port = 1024"}) {
    EXPECT_NE(plan(where).find("MULTI-INDEX OR"), std::string::npos) << where << ": " << plan(where);
    auto rows = ours(where, "tcp_sockets", false);
    // A subquery with a LIMIT is neither flattened nor given the WHERE: one plain scan.
    EXPECT_EQ(rows, ours(where, "(SELECT * FROM tcp_sockets LIMIT -1)", false)) << where;
  }
  EXPECT_EQ(ours("state = 'ESTABLISHED' OR local_port > 1024", "tcp_sockets", false).size(), 9u);
}

TEST(InSubnet, AnswersForAnyTextAddress) {
  Db db;
  struct Case {
    const char* address;
    const char* prefix;
    const char* want;  // nullptr: NULL
  };
  const Case kCases[] = {
      {"'10.1.2.3'", "'10.0.0.0/8'", "1"},        {"'11.0.0.1'", "'10.0.0.0/8'", "0"},
      {"'10.255.255.255'", "'10.0.0.0/8'", "1"},  {"'9.255.255.255'", "'10.0.0.0/8'", "0"},
      {"'10.1.2.3'", "'10.1.2.3'", "1"},          {"'10.1.2.4'", "'10.1.2.3/32'", "0"},
      {"'10.1.2.127'", "'10.1.2.0/25'", "1"},     {"'10.1.2.128'", "'10.1.2.0/25'", "0"},
      {"'10.1.2.3'", "'10.1.2.99/24'", "1"},      {"'1.2.3.4'", "'0.0.0.0/0'", "1"},
      {"'::ffff:10.1.2.3'", "'10.0.0.0/8'", "1"}, {"'::ffff:11.1.2.3'", "'10.0.0.0/8'", "0"},
      {"'::10.1.2.3'", "'10.0.0.0/8'", "0"},      {"'10.1.2.3'", "'::ffff:10.0.0.0/104'", "0"},
      {"'fd00::1'", "'fd00::/8'", "1"},           {"'FD00::1'", "'fd00::/8'", "1"},
      {"'fe80::1'", "'fd00::/8'", "0"},           {"'fd00::1'", "'10.0.0.0/8'", "0"},
      {"'10.1.2.3'", "'::/0'", "0"},              {"'2001:db8::1'", "'2001:db8::/127'", "1"},
      {"'2001:db8::2'", "'2001:db8::/127'", "0"}, {"'foo'", "'10.0.0.0/8'", "0"},
      {"''", "'10.0.0.0/8'", "0"},                {"167838211", "'10.0.0.0/8'", "0"},
      {"NULL", "'10.0.0.0/8'", nullptr},          {"'10.1.2.3'", "NULL", nullptr},
      {"NULL", "'not a prefix'", nullptr},
  };
  for (const auto& c : kCases) {
    std::string sql = std::string("SELECT in_subnet(") + c.address + ", " + c.prefix + ")";
    auto rows = db.rows(sql);
    ASSERT_EQ(rows.size(), 1u) << sql;
    EXPECT_EQ(rows[0][0], c.want ? Cell(c.want) : std::nullopt) << sql;
  }
  for (const char* bad : {"'10.0.0.0/33'", "'foo'", "'10.0.0.0/'", "'10.0.0.0/-1'", "'10.0.0.0/8/8'", "'fd00::/129'",
                          "'10.0.0.0/ 8'", "'10.0.0/8'", "''", "'10.0.0.0/0008'", "8"}) {
    std::string e = db.error(std::string("SELECT in_subnet('10.1.2.3', ") + bad + ")");
    EXPECT_EQ(e.rfind("in_subnet: malformed prefix ", 0), 0u) << bad << ": " << e;
  }
  EXPECT_EQ(db.error("SELECT in_subnet('10.1.2.3', '10.0.0.0/33')"),
            "in_subnet: malformed prefix '10.0.0.0/33' (expected ADDRESS/LENGTH such as '10.0.0.0/8' or 'fd00::/8', "
            "LENGTH at most 32 for IPv4 and 128 for IPv6)");
}

}  // namespace
}  // namespace netsql::test
