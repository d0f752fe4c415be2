// firewall_rules, firewall_chains: the nft listing parser on a recorded
// listing (whole, every prefix, damaged lines), then a ruleset built with
// nft and iptables in a peer namespace reached over a veth pair, checked
// against nft's own JSON and text output after known traffic; legacy
// iptables tables; an unprivileged caller; the host process left as it was.
#include <arpa/inet.h>
#include <gmp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kernel/nft.h"
#include "support.h"

namespace netsql::test {
namespace {

using json = nlohmann::json;
using kernel::NftChain;
using kernel::NftRule;

std::string recorded_listing() {
  std::ifstream in(NETSQL_SOURCE_DIR "/tests/fixtures/nft_listing.txt");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string describe(const NftRule& r) {
  auto num = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("NULL"); };
  return r.family + "|" + r.table + "|" + r.chain + "|" + std::to_string(r.handle) + "|" + std::to_string(r.position) +
         "|" + r.text + "|" + num(r.packets) + "|" + num(r.bytes) + "|" + r.comment.value_or("NULL");
}

std::string describe(const NftChain& c) {
  return c.family + "|" + c.table + "|" + c.name + "|" + std::to_string(c.handle) + "|" + c.type.value_or("NULL") +
         "|" + c.hook.value_or("NULL") + "|" + c.device.value_or("NULL") + "|" +
         (c.priority ? std::to_string(*c.priority) : "NULL") + "|" + c.policy.value_or("NULL") + "|" +
         std::to_string(c.rules);
}

template <class T>
std::vector<std::string> describe_all(const std::vector<T>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(describe(x));
  return out;
}

// Recorded with nft -a -y list ruleset (counter values of the rule with
// two counters edited to be distinct and non-zero).
TEST(NftListing, RecordedListingGivesEveryChainAndRule) {
  kernel::Ruleset rs = kernel::parse_nft_listing(recorded_listing());
  EXPECT_EQ(describe_all(rs.chains), (std::vector<std::string>{
                                         "inet|filter|input|1|filter|input|NULL|0|drop|5",
                                         "inet|filter|forward|2|filter|forward|NULL|10|accept|0",
                                         "inet|filter|sub|3|NULL|NULL|NULL|NULL|NULL|1",
                                         "inet|filter|other|4|NULL|NULL|NULL|NULL|NULL|0",
                                         "ip|nat|post|1|nat|postrouting|NULL|100|accept|1",
                                         "netdev|nd|ing|1|filter|ingress|lo|-500|accept|0",
                                     }));
  EXPECT_EQ(describe_all(rs.rules),
            (std::vector<std::string>{
                "inet|filter|input|7|1|iif \"lo\" accept|NULL|NULL|NULL",
                "inet|filter|input|8|2|ip saddr @blocked counter packets 0 bytes 0 drop|0|0|NULL",
                "inet|filter|input|10|3|tcp dport { 22, 80 } counter packets 0 bytes 0 accept comment \"web and "
                "ssh\"|0|0|web and ssh",
                // A quoted string that looks like a counter is not one; two counters add up.
                "inet|filter|input|11|4|log prefix \"x counter packets 9 bytes 9 \" counter packets 3 bytes 252 counter "
                "packets 4 bytes 336 accept comment \"two counters\"|7|588|two counters",
                // A named counter's values are not in the rule.
                "inet|filter|input|12|5|udp dport 53 counter name \"named\" accept|NULL|NULL|NULL",
                "inet|filter|sub|13|1|counter packets 0 bytes 0 jump other|0|0|NULL",
                "ip|nat|post|2|1|oifname \"eth0\" masquerade|NULL|NULL|NULL",
            }));
}

// A rule line that ends in the comment mark itself has no comment (the
// closing quote would be the mark's own: found by fuzz_nft_listing, an
// overread that ASan reports).
TEST(NftListing, ARuleEndingInACommentMarkHasNoComment) {
  const std::string text = "table ip t { # handle 1\n\tchain c { # handle 2\n\t\taccept comment \" # handle 3\n\t}\n}\n";
  auto rules = kernel::parse_nft_listing(text).rules;
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].text, "accept comment \"");
  EXPECT_FALSE(rules[0].comment.has_value());
}

// Every prefix of the listing parses; what it gives is the start of what
// the whole gives (the last rule may be cut short, its handle too).
TEST(NftListing, EveryPrefixParsesToAPrefixOfTheRules) {
  std::string text = recorded_listing();
  auto whole = describe_all(kernel::parse_nft_listing(text).rules);
  for (size_t n = 0; n <= text.size(); ++n) {
    std::unique_ptr<char[]> copy(new char[n]);  // exactly n bytes: ASan sees any overread
    std::memcpy(copy.get(), text.data(), n);
    auto got = describe_all(kernel::parse_nft_listing(std::string_view(copy.get(), n)).rules);
    ASSERT_LE(got.size(), whole.size()) << n;
    for (size_t i = 0; i + 1 < got.size(); ++i) ASSERT_EQ(got[i], whole[i]) << n;
  }
}

TEST(NftListing, DamagedLinesAreSkippedOrLeftNull) {
  auto rules = [](std::string_view body) {
    return describe_all(kernel::parse_nft_listing("table ip t { # handle 1\n\tchain c { # handle 2\n" +
                                                  std::string(body) + "\t}\n}\n")
                            .rules);
  };
  EXPECT_EQ(rules("\t\taccept # handle x\n"), std::vector<std::string>{});           // no number
  EXPECT_EQ(rules("\t\taccept # handle 99999999999999999999\n"), std::vector<std::string>{});  // too big
  EXPECT_EQ(rules("\t\t\taccept # handle 3\n"), std::vector<std::string>{});          // not a rule's depth
  EXPECT_EQ(rules("\t\tcounter packets 18446744073709551615 bytes 1 accept # handle 3\n"),
            std::vector<std::string>{"ip|t|c|3|1|counter packets 18446744073709551615 bytes 1 accept|NULL|NULL|NULL"});
  EXPECT_EQ(rules("\t\tcounter packets 5 bytes accept # handle 3\n"),
            std::vector<std::string>{"ip|t|c|3|1|counter packets 5 bytes accept|NULL|NULL|NULL"});
  EXPECT_EQ(rules("\t\taccept comment \"a\"b\" # handle 3\n"),
            std::vector<std::string>{"ip|t|c|3|1|accept comment \"a\"b\"|NULL|NULL|NULL"});
  EXPECT_EQ(rules("\t\tcomment \" # handle 3\n"), std::vector<std::string>{"ip|t|c|3|1|comment \"|NULL|NULL|NULL"});
  // Rules outside a chain (a set's lines, a chain outside a table) are not rules.
  EXPECT_TRUE(kernel::parse_nft_listing("\tchain c { # handle 2\n\t\taccept # handle 3\n").rules.empty());
  EXPECT_TRUE(kernel::parse_nft_listing("table ip t { # handle 1\n\tset s { # handle 2\n\t\tx # handle 3\n").rules.empty());
  // A type line that is not one leaves the chain a regular chain.
  auto rs = kernel::parse_nft_listing("table ip t { # handle 1\n\tchain c { # handle 2\n\t\ttype\n\t\tpriority x;\n");
  ASSERT_EQ(rs.chains.size(), 1u);
  EXPECT_EQ(describe(rs.chains[0]), "ip|t|c|2|NULL|NULL|NULL|NULL|NULL|0");
}

// ---- live, in private namespaces ----

class Firewall : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    add_peer("fw");
    sh("ip link add v0 type veth peer name v1 netns " + peer_);
    sh("sysctl -qw net.ipv6.conf.v0.disable_ipv6=1 && ip addr add 10.77.0.1/24 dev v0 && ip link set v0 up");
    sh(in_peer("sysctl -qw net.ipv6.conf.v1.disable_ipv6=1") + " && " + in_peer("ip addr add 10.77.0.2/24 dev v1") +
       " && " + in_peer("ip link set v1 up"));
  }
};

constexpr const char* kRuleset = R"(
table inet filter {
  chain input { type filter hook input priority filter; policy accept;
    udp dport 9 counter accept comment "discard"
    udp dport 10 counter drop
    tcp dport { 22, 80 } counter accept comment "web and ssh"
  }
  chain forward { type filter hook forward priority filter + 10; policy drop; }
  chain audit { counter return; }
}
table ip raw {
  chain pre { type filter hook prerouting priority raw; policy accept;
    ip saddr 10.77.0.1 counter jump note
  }
  chain note { counter; }
}
)";

TEST_F(Firewall, RulesAndCountersEqualNftsAfterKnownTraffic) {
  {
    std::ofstream f("/tmp/" + peer_ + ".nft");
    f << kRuleset;
  }
  sh(in_peer("nft -f /tmp/" + peer_ + ".nft"));
  unlink(("/tmp/" + peer_ + ".nft").c_str());
  sh(in_peer("iptables -A INPUT -p udp --dport 9 -j ACCEPT"));  // iptables-nft: table ip filter
  // Unconnected, so that the peer's port unreachable replies do not fail the sends.
  int u = udp_socket("10.77.0.1", 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
  char payload[100] = {};
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(sendto(u, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 100);
  close(u);
  Db db;
  // 5 datagrams of 20 + 8 + 100 bytes reach the peer's input hook.
  ASSERT_TRUE(wait_until([&] {
    return db.scalar("SELECT count(*) FROM firewall_rules('" + peer_ + "') WHERE comment = 'discard' AND packets = 5") == 1;
  }));
  EXPECT_EQ(db.rows("SELECT packets, bytes FROM firewall_rules('" + peer_ + "') WHERE comment = 'discard'"),
            (std::vector<Row>{{"5", "640"}}));

  std::string text = run(in_peer("nft -a list ruleset"));
  json j = json::parse(run(in_peer("nft -j list ruleset")));
  std::vector<Row> want;
  for (const auto& item : j["nftables"]) {
    if (!item.contains("rule")) continue;
    const json& r = item["rule"];
    std::optional<int64_t> packets, bytes;
    for (const auto& e : r["expr"])
      if (e.contains("counter") && e["counter"].is_object()) {
        packets = packets.value_or(0) + e["counter"]["packets"].get<int64_t>();
        bytes = bytes.value_or(0) + e["counter"]["bytes"].get<int64_t>();
      }
    auto cell = [](const std::optional<int64_t>& v) { return v ? Cell(std::to_string(*v)) : Cell(); };
    want.push_back({r["family"].get<std::string>(), r["table"].get<std::string>(), r["chain"].get<std::string>(),
                    std::to_string(r["handle"].get<int64_t>()), cell(packets), cell(bytes),
                    r.contains("comment") ? Cell(r["comment"].get<std::string>()) : Cell()});
  }
  ASSERT_EQ(want.size(), 7u);
  auto got = db.rows("SELECT family, table_name, chain, handle, packets, bytes, comment FROM firewall_rules('" + peer_ +
                     "')");
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  // The text is nft's line for the rule, less its handle comment.
  for (const auto& r : db.rows("SELECT rule, handle FROM firewall_rules('" + peer_ + "')"))
    EXPECT_NE(text.find("\t\t" + *r[0] + " # handle " + *r[1] + "\n"), std::string::npos) << *r[0] << "\n" << text;
  EXPECT_EQ(db.rows("SELECT chain, position, rule FROM firewall_rules('" + peer_ +
                    "') WHERE table_name = 'filter' AND family = 'inet' AND chain = 'input' ORDER BY position"),
            (std::vector<Row>{
                {"input", "1", "udp dport 9 counter packets 5 bytes 640 accept comment \"discard\""},
                {"input", "2", "udp dport 10 counter packets 0 bytes 0 drop"},
                {"input", "3", "tcp dport { 22, 80 } counter packets 0 bytes 0 accept comment \"web and ssh\""},
            }));
  // The caller's namespace has no ruleset.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM firewall_rules"), 0);
}

TEST_F(Firewall, ChainsEqualNfts) {
  {
    std::ofstream f("/tmp/" + peer_ + ".nft");
    f << kRuleset;
  }
  sh(in_peer("nft -f /tmp/" + peer_ + ".nft"));
  unlink(("/tmp/" + peer_ + ".nft").c_str());
  sh(in_peer("iptables -A INPUT -p udp --dport 9 -j ACCEPT"));
  json j = json::parse(run(in_peer("nft -j list ruleset")));
  std::map<std::string, int> rules;
  for (const auto& item : j["nftables"])
    if (item.contains("rule"))
      ++rules[item["rule"]["family"].get<std::string>() + " " + item["rule"]["table"].get<std::string>() + " " +
              item["rule"]["chain"].get<std::string>()];
  std::vector<Row> want;
  for (const auto& item : j["nftables"]) {
    if (!item.contains("chain")) continue;
    const json& c = item["chain"];
    auto text = [&](const char* k) { return c.contains(k) ? Cell(c[k].get<std::string>()) : Cell(); };
    std::string key = c["family"].get<std::string>() + " " + c["table"].get<std::string>() + " " +
                      c["name"].get<std::string>();
    want.push_back({c["family"].get<std::string>(), c["table"].get<std::string>(), c["name"].get<std::string>(),
                    std::to_string(c["handle"].get<int64_t>()), text("type"), text("hook"),
                    c.contains("prio") ? Cell(std::to_string(c["prio"].get<int64_t>())) : Cell(), text("policy"),
                    std::to_string(rules[key]), "nftables"});
  }
  ASSERT_EQ(want.size(), 6u);
  Db db;
  auto got = db.rows("SELECT family, table_name, chain, handle, type, hook, priority, policy, rule_count, backend "
                     "FROM firewall_chains WHERE netns = '" + peer_ + "'");
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(db.rows("SELECT priority, policy FROM firewall_chains('" + peer_ + "') WHERE chain = 'forward'"),
            (std::vector<Row>{{"10", "drop"}}));
}

std::vector<std::string>* g_log = nullptr;
void on_log(void*, int code, const char* msg) {
  if (g_log && code == SQLITE_WARNING) g_log->push_back(msg);
}

// iptables-legacy rules live in x_tables, which nftables does not show:
// firewall_chains counts them, and firewall_rules warns.
TEST_F(Firewall, LegacyIptablesRulesAreCountedAndWarnedAbout) {
  std::vector<std::string> log;
  g_log = &log;
  sqlite3_shutdown();
  ASSERT_EQ(sqlite3_config(SQLITE_CONFIG_LOG, on_log, nullptr), SQLITE_OK);
  Db db;
  EXPECT_EQ(db.rows("SELECT * FROM firewall_chains WHERE backend = 'x_tables'"), std::vector<Row>{});
  sh("iptables-legacy -A INPUT -p tcp --dport 7 -j DROP && iptables-legacy -A OUTPUT -p tcp --dport 7 -j DROP");
  sh("ip6tables-legacy -N mine");
  EXPECT_EQ(db.rows("SELECT family, table_name, chain, handle, rule_count FROM firewall_chains WHERE backend = "
                    "'x_tables' ORDER BY family"),
            (std::vector<Row>{{"ip", "filter", {}, {}, "2"}, {"ip6", "filter", {}, {}, "2"}}));
  log.clear();
  EXPECT_EQ(db.scalar("SELECT count(*) FROM firewall_rules"), 0);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "firewall_rules: legacy x_tables table ip filter holds 2 entries that nftables does not show "
                     "(iptables-legacy -S; firewall_chains lists them with backend 'x_tables')",
                     "firewall_rules: legacy x_tables table ip6 filter holds 2 entries that nftables does not show "
                     "(iptables-legacy -S; firewall_chains lists them with backend 'x_tables')"}));
  g_log = nullptr;
}

TEST_F(Firewall, UnprivilegedCallerGetsAClearError) {
  sh("nft add table ip t");
  sh("iptables-legacy -A INPUT -p tcp --dport 7 -j DROP");
  EXPECT_EQ(run_as_nobody({"SELECT count(*) FROM firewall_rules", "SELECT count(*) FROM firewall_chains"}),
            "error: firewall_rules: nftables: listing the ruleset needs CAP_NET_ADMIN in the namespace;"
            "error: firewall_chains: nftables: listing the ruleset needs CAP_NET_ADMIN in the namespace;");
}

// libxtables (initialised by libnftables) ends a process whose real and
// effective uids differ with _exit(111): such a caller gets an error instead.
TEST_F(Firewall, ACallerWithDifferentRealAndEffectiveUidsGetsAnErrorNotAnExit) {
  sh("nft add table ip t");
  pid_t child = fork();
  if (child == 0) {
    if (setresuid(65534, 0, 0) != 0) _exit(3);
    Db db;
    std::string e = db.error("SELECT count(*) FROM firewall_rules");
    _exit(e.find("real and effective user ids differ") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: another error or none, 111: libxtables ended the process";
}

// libnftables is opened when a firewall table is first read: loading the
// extension (every .load, every netsql start) does not map it and the five
// libraries it needs. Run again alone in a fresh process of this binary,
// whose maps no other test has touched.
TEST(Nftables, OpenedOnlyWhenAFirewallTableIsRead) {
  if (!std::getenv("NETSQL_TEST_FRESH")) {
    std::string self = "/proc/" + std::to_string(getpid()) + "/exe";
    int status = std::system(("NETSQL_TEST_FRESH=1 " + self +
                              " --gtest_filter=Nftables.OpenedOnlyWhenAFirewallTableIsRead >/dev/null").c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "run it alone to see which check failed";
    return;
  }
  auto mapped = [] {
    std::ifstream in("/proc/self/maps");
    std::stringstream s;
    s << in.rdbuf();
    return s.str().find("/libnftables.so") != std::string::npos;
  };
  ASSERT_FALSE(mapped());
  Db db;
  db.rows("SELECT count(*) FROM processes");
  EXPECT_FALSE(mapped()) << "loading the extension mapped libnftables";
  if (geteuid() != 0) GTEST_SKIP() << "listing the ruleset needs CAP_NET_ADMIN";
  EXPECT_EQ(db.error("SELECT count(*) FROM firewall_chains"), "");
  EXPECT_TRUE(mapped()) << "listing the ruleset did not open libnftables";
}

void* my_alloc(size_t n) { return std::malloc(n); }
void* my_realloc(void* p, size_t, size_t n) { return std::realloc(p, n); }
void my_free(void* p, size_t) { std::free(p); }

// libnftables lives in the caller's process: reading the ruleset leaves
// its fds, its locale and its GMP allocator as they were.
TEST_F(Firewall, ListingLeavesTheProcessAsItWas) {
  sh("nft add table ip t && nft add chain ip t c && nft add rule ip t c counter accept");
  mp_set_memory_functions(my_alloc, my_realloc, my_free);
  ASSERT_NE(setlocale(LC_ALL, "C.UTF-8"), nullptr);
  Db db;
  int fds = open_fd_count();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(db.scalar("SELECT count(*) FROM firewall_rules"), 1);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM firewall_rules('" + peer_ + "')"), 0);
  }
  EXPECT_EQ(open_fd_count(), fds);
  EXPECT_STREQ(setlocale(LC_ALL, nullptr), "C.UTF-8");
  void* (*a)(size_t);
  void* (*r)(void*, size_t, size_t);
  void (*f)(void*, size_t);
  mp_get_memory_functions(&a, &r, &f);
  EXPECT_TRUE(a == my_alloc && r == my_realloc && f == my_free);
  mp_set_memory_functions(nullptr, nullptr, nullptr);  // GMP's defaults
}

}  // namespace
}  // namespace netsql::test
