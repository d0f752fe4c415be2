// The extension as users meet it: the stock sqlite3 shell with README's
// .load line, and the README reference generated from the declarations.
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support.h"

// A sanitizer build of the extension needs the sanitizer runtimes loaded
// first into the (uninstrumented) stock shell.
#ifdef NETSQL_SANITIZE
#define SANITIZER_PRELOAD "ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD='" NETSQL_SANITIZER_RUNTIMES "' "
#else
#define SANITIZER_PRELOAD ""
#endif

namespace netsql::test {
namespace {


// The `.load` line exactly as README.md gives it.
std::string readme_load_line() {
  std::istringstream in(slurp(NETSQL_SOURCE_DIR "/README.md"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(".load ", 0) == 0) return line;
  return {};
}

using ExtensionInNetns = NetnsTest;

// Current resident memory of this process, KiB.
long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// A host that opens a connection, loads the extension, queries and closes,
// again and again, holds no more memory for it: the extension's static
// C++ runtime allocates a pool as it loads that an unload would lose.
TEST(Extension, LoadingAgainOnEachConnectionHoldsNoMoreMemory) {
#ifdef NETSQL_SANITIZE
  GTEST_SKIP() << "sanitizer builds link the shared C++ runtime (and their own allocator keeps freed memory)";
#endif
  auto round = [] {
    Db db;
    EXPECT_EQ(db.rows("SELECT count(*) > 0 FROM interfaces"), (std::vector<Row>{{"1"}}));
  };
  for (int i = 0; i < 20; ++i) round();
  const long before = rss_kib();
  for (int i = 0; i < 400; ++i) round();
  // Losing the pool (71 KiB) each time would be ~28 MiB.
  EXPECT_LT(rss_kib() - before, 8 * 1024) << "KiB grown over 400 loads";
}

TEST_F(ExtensionInNetns, StockSqliteShellLoadsItWithReadmeLine) {
  std::string load = readme_load_line();
  ASSERT_EQ(load, ".load ./build/libnetsql");
  // README assumes the build directory is ./build under the source tree;
  // other build trees (the sanitizer build) point the same line at theirs.
  std::string dir = NETSQL_SOURCE_DIR;
  if (std::string(NETSQL_BINARY_DIR) != dir + "/build") load = ".load " NETSQL_BINARY_DIR "/libnetsql";
  int l1 = tcp_listener("127.0.0.1", 0), l2 = tcp_listener("::1", 0);
  int c = tcp_connect("127.0.0.1", local_port(l1)), s = tcp_accept(l1);
  std::string out = run("cd " + dir + " && printf '%s\\n%s\\n' '" + load +
                        "' 'SELECT state, count(*) FROM tcp_sockets GROUP BY state;' | " SANITIZER_PRELOAD
                        "sqlite3 :memory: 2>&1");
  EXPECT_EQ(out, "ESTABLISHED|2\nLISTEN|2\n");
  for (int fd : {l1, l2, c, s}) close(fd);
}

TEST(Extension, EveryTableIsEponymousAndDirectOnly) {
  Db db;
  for (const char* t : {"tcp_sockets", "udp_sockets", "routes", "interfaces", "interface_addresses", "neighbors",
                        "unix_sockets", "raw_sockets", "socket_owners", "processes", "protocol_stats", "multicast_groups",
                        "network_namespaces", "services", "hosts", "netsql_stats", "process_open_files",
                        "packet_sockets", "netlink_sockets", "conntrack", "interface_settings", "interface_details"}) {
    EXPECT_EQ(db.error(std::string("SELECT * FROM ") + t + " LIMIT 0"), "") << t;
    EXPECT_NE(db.error(std::string("CREATE VIRTUAL TABLE x USING ") + t), "") << t;
  }
  EXPECT_EQ(db.error("CREATE VIEW v AS SELECT * FROM tcp_sockets"), "");
  EXPECT_NE(db.error("SELECT * FROM v"), "");  // DIRECTONLY: not through a schema view
}

TEST(Extension, ReadmeReferenceMatchesDeclarations) {
  std::string readme = slurp(NETSQL_SOURCE_DIR "/README.md");
  std::string generated = run(NETSQL_BINARY_DIR "/netsql_docs");
  ASSERT_FALSE(generated.empty());
  generated.pop_back();  // trailing newline
  EXPECT_NE(readme.find(generated), std::string::npos)
      << "README.md's table reference is stale: run  build/netsql_docs --update README.md";
}

// The reference says "(pushed down ...)" for exactly the columns whose
// `col = value` the plan hands to the table (EXPLAIN QUERY PLAN shows them
// in the index string), and never for the hidden netns argument column.
TEST(Extension, ReferenceSaysPushedDownExactlyWhereThePlanPushes) {
  std::istringstream reference(run(NETSQL_BINARY_DIR "/netsql_docs"));
  Db db;
  std::map<std::string, std::vector<std::string>> lines;  // table: its column lines
  std::vector<std::string> order;
  std::string table, line;
  while (std::getline(reference, line)) {
    if (line.rfind("### `", 0) == 0) order.push_back(table = line.substr(5, line.size() - 6));
    if (line.rfind("| `", 0) == 0) lines[table].push_back(line);
  }
  int columns = 0, pushed = 0;
  for (const auto& t : order) {
    // A table with a required argument (route_get's destination) is read
    // with one given as its table argument.
    std::string from = t;
    for (const auto& l : lines[t])
      if (l.find("(required") != std::string::npos) from = t + "('127.0.0.1')";
    for (const auto& l : lines[t]) {
      std::string col = l.substr(3, l.find('`', 3) - 3);
      bool says = l.find("(pushed down for ") != std::string::npos;
      auto plan = db.rows("EXPLAIN QUERY PLAN SELECT * FROM " + from + " WHERE \"" + col + "\" = 1");
      ASSERT_EQ(plan.size(), 1u) << t << "." << col;
      const std::string& detail = *plan[0][3];
      bool argument = col == "netns";  // chosen by the template, not pushed to the cursor
      bool pushes = !argument && detail.find(":" + col + " EQ") != std::string::npos;
      EXPECT_EQ(says, pushes) << t << "." << col << ": " << l << "\n" << detail;
      ++columns;
      pushed += pushes;
    }
  }
  EXPECT_GT(columns, 100);
  EXPECT_GE(pushed, 15);
}

}  // namespace
}  // namespace netsql::test
