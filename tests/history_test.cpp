// Scheduled snapshots into history tables: differential correctness with
// multiset semantics, retention, crash safety under kill -9, a concurrent
// reader, and every bad input with its exact message.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "support.h"

namespace netsql::test {
namespace {

// Starts `netsql schedule cfg` with its output thrown away.
pid_t start_schedule(const std::string& cfg, const char* option = nullptr) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    int err = open((cfg + ".err").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);  // schedule_said()
    dup2(null, 1);
    dup2(err, 2);
    if (option) execl(NETSQL_SHELL_PATH, "netsql", "schedule", option, cfg.c_str(), static_cast<char*>(nullptr));
    execl(NETSQL_SHELL_PATH, "netsql", "schedule", cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// What a schedule started by start_schedule(cfg) said on stderr.
std::string schedule_said(const std::string& cfg) { return "\nthe schedule said:\n" + slurp(cfg + ".err"); }

// A plain connection to a history database (no extension needed).
class HistoryDb {
 public:
  explicit HistoryDb(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~HistoryDb() { sqlite3_close(db_); }
  std::vector<Row> rows(const std::string& sql) {
    std::vector<Row> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Row r;
      for (int i = 0; i < sqlite3_column_count(st); ++i)
        r.push_back(sqlite3_column_type(st, i) == SQLITE_NULL
                        ? std::nullopt
                        : Cell(reinterpret_cast<const char*>(sqlite3_column_text(st, i))));
      out.push_back(r);
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return out;
  }
  long long scalar(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() || !r[0][0] ? -1 : std::stoll(*r[0][0]);
  }
  // A count that may be asked before the scheduler has created the
  // database: 0 while the catalog does not exist (or is locked).
  long long catalog_count(const std::string& where = "1") {
    sqlite3_stmt* st = nullptr;
    long long n = 0;
    if (sqlite3_prepare_v2(db_, ("SELECT count(*) FROM snapshots WHERE " + where).c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  }

 private:
  sqlite3* db_ = nullptr;
};

using History = NetnsTest;

TEST_F(History, DifferentialAddsAndRemovesExactly) {
  TempDir dir;
  std::string db = dir.path + "/h.db";
  const std::string snap = "snapshot --db " + db + " --name listening --differential " +
                           "\"SELECT local_port FROM tcp_sockets WHERE state = 'LISTEN'\"";
  int a = tcp_listener("127.0.0.1", 0);
  auto r = netsql(snap);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "listening: snapshot 1, 1 rows, 1 added, 0 removed\n");
  int b = tcp_listener("127.0.0.1", 0);
  int pa = local_port(a), pb = local_port(b);
  close(a);
  EXPECT_EQ(netsql(snap).out, "listening: snapshot 2, 1 rows, 1 added, 1 removed\n");
  EXPECT_EQ(netsql(snap).out, "listening: snapshot 3, 1 rows, 0 added, 0 removed\n");
  HistoryDb h(db);
  EXPECT_EQ(h.rows("SELECT snapshot_id, local_port, action FROM listening ORDER BY snapshot_id, action"),
            (std::vector<Row>{{"1", std::to_string(pa), "added"},
                              {"2", std::to_string(pb), "added"},
                              {"2", std::to_string(pa), "removed"}}));
  EXPECT_EQ(h.rows("SELECT id, name, mode, rows, added, removed, error FROM snapshots"),
            (std::vector<Row>{{"1", "listening", "differential", "1", "1", "0", std::nullopt},
                              {"2", "listening", "differential", "1", "1", "1", std::nullopt},
                              {"3", "listening", "differential", "1", "0", "0", std::nullopt}}));
  EXPECT_EQ(h.scalar("SELECT count(*) FROM snapshots WHERE time > strftime('%s', 'now', '-1 minute') * 1000"), 3);
  close(b);
}

TEST_F(History, MultisetSemantics) {
  TempDir dir;
  std::string db = dir.path + "/h.db";
  const std::string snap = "snapshot --db " + db + " --name addrs --differential " +
                           "\"SELECT local_address FROM tcp_sockets WHERE state = 'LISTEN'\"";
  int a = tcp_listener("127.0.0.1", 0), b = tcp_listener("127.0.0.1", 0);
  EXPECT_EQ(netsql(snap).out, "addrs: snapshot 1, 2 rows, 2 added, 0 removed\n");
  close(a);
  EXPECT_EQ(netsql(snap).out, "addrs: snapshot 2, 1 rows, 0 added, 1 removed\n");
  HistoryDb h(db);
  EXPECT_EQ(h.rows("SELECT local_address, action FROM addrs WHERE snapshot_id = 2"),
            (std::vector<Row>{{"127.0.0.1", "removed"}}));
  close(b);
}

TEST(HistoryRetention, ByRowsAndByAge) {
  TempDir dir;
  std::string db = dir.path + "/h.db";
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(netsql("snapshot --db " + db + " --name two --max-rows 3 \"SELECT 1 AS x UNION ALL SELECT 2\"").status, 0);
  HistoryDb h(db);
  EXPECT_EQ(h.rows("SELECT snapshot_id, x FROM two ORDER BY rowid"), (std::vector<Row>{{"2", "2"}, {"3", "1"}, {"3", "2"}}));
  EXPECT_EQ(netsql("snapshot --db " + db + " --name aged --max-age-s 1 \"SELECT 1 AS x\"").status, 0);
  // Two seconds pass, as far as the history can tell.
  h.rows("UPDATE aged SET snapshot_time = snapshot_time - 2000");
  h.rows("UPDATE snapshots SET time = time - 2000 WHERE name = 'aged'");
  EXPECT_EQ(netsql("snapshot --db " + db + " --name aged --max-age-s 1 \"SELECT 2 AS x\"").status, 0);
  EXPECT_EQ(h.rows("SELECT x FROM aged"), (std::vector<Row>{{"2"}}));
  EXPECT_EQ(h.scalar("SELECT count(*) FROM snapshots WHERE name = 'aged'"), 1);
  // The longest retention there is keeps everything, including the
  // snapshot just taken.
  h.rows("UPDATE aged SET snapshot_time = snapshot_time - 86400000");
  h.rows("UPDATE snapshots SET time = time - 86400000 WHERE name = 'aged'");
  auto r = netsql("snapshot --db " + db + " --name aged --max-age-s 3162240000 \"SELECT 3 AS x\"");
  EXPECT_EQ(r.out, "aged: snapshot 6, 1 rows, 1 added, 0 removed\n") << r.err;
  EXPECT_EQ(h.rows("SELECT x FROM aged ORDER BY x"), (std::vector<Row>{{"2"}, {"3"}}));
  EXPECT_EQ(h.scalar("SELECT count(*) FROM snapshots WHERE name = 'aged'"), 2);
}

// Consistency of a history database: integrity, catalog counts equal the
// rows recorded, and the differential baseline equals what the history adds up to.
void expect_consistent(const std::string& db, const std::string& name) {
  HistoryDb h(db);
  EXPECT_EQ(h.rows("PRAGMA integrity_check"), (std::vector<Row>{{"ok"}}));
  EXPECT_EQ(h.scalar("SELECT count(*) FROM snapshots s WHERE added != (SELECT count(*) FROM " + name +
                     " t WHERE t.snapshot_id = s.id AND action = 'added') OR removed != (SELECT count(*) FROM " + name +
                     " t WHERE t.snapshot_id = s.id AND action = 'removed')"),
            0);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM " + name + " WHERE snapshot_id NOT IN (SELECT id FROM snapshots)"), 0);
  // No gap in the catalog.
  EXPECT_EQ(h.scalar("SELECT max(id) - count(*) FROM snapshots"), 0);
  // Σ added − Σ removed, per value, is the baseline.
  auto history = h.rows("SELECT v, sum(CASE action WHEN 'added' THEN 1 ELSE -1 END) FROM " + name +
                        " GROUP BY v HAVING sum(CASE action WHEN 'added' THEN 1 ELSE -1 END) != 0 ORDER BY v");
  auto baseline = h.rows("SELECT v, netsql_count FROM netsql_baseline_" + name + " ORDER BY v");
  EXPECT_EQ(history, baseline);
}

TEST(HistoryCrash, KillNineLeavesConsistentHistory) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << R"({"db": ")" << db << R"(", "schedule": {"churn": {"query":
      "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 6) SELECT abs(random()) % 4 AS v FROM r",
      "interval": 0.005}}})";
  std::mt19937 rng(42);
  HistoryDb h(db);
  for (int round = 0; round < 20; ++round) {
    pid_t pid = start_schedule(cfg);
    // Killed once it has recorded a few more snapshots, wherever it then is.
    long long goal = h.catalog_count() + 1 + rng() % 5;
    EXPECT_TRUE(wait_until([&] { return h.catalog_count() >= goal; })) << "round " << round;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  long long before = h.scalar("SELECT count(*) FROM snapshots");
  EXPECT_GE(before, 20);
  expect_consistent(db, "churn");
  // A clean run after all that continues the differential correctly.
  pid_t pid = start_schedule(cfg);
  // Meanwhile another process reads the history without errors, and sees it grow.
  HistoryDb reader(db);
  EXPECT_TRUE(wait_until([&] {
    long long n = reader.scalar("SELECT count(*) FROM snapshots");
    EXPECT_GE(n, before);
    return n >= before + 20;
  }));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GT(h.scalar("SELECT count(*) FROM snapshots"), before);
  expect_consistent(db, "churn");
}

TEST(HistoryErrors, BadInputIsRefusedAtStartUp) {
  TempDir dir;
  std::string db = dir.path + "/h.db";
  auto config = [&](const std::string& body) {
    std::string p = dir.path + "/c.json";
    std::ofstream(p) << body;
    return netsql("schedule " + p);
  };
  std::string c = dir.path + "/c.json";
  std::string good_query = R"("query": "SELECT 1 AS x", "interval": 10)";
  auto expect_error = [&](const std::string& body, const std::string& message) {
    auto r = config(body);
    EXPECT_EQ(r.status, 1) << body;
    EXPECT_EQ(r.err, "Error: " + c + ": " + message + "\n") << body;
  };
  expect_error(R"({"db": ")" + db + R"(", "bogus": 1, "schedule": {"q": {)" + good_query + "}}}",
               "unknown key \"bogus\" (expected schedule, packs, options, db, log, host_identifier, decorators, epoch, "
               "log_format)");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"q": {)" + good_query + R"(, "platform": 5}}})",
               "query 'q': \"platform\" must be a string");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"q": {)" + good_query + R"(, "owner": "me"}}})",
               "query 'q': unknown key \"owner\" (expected query, interval, snapshot, removed, platform, version, shard, "
               "denylist, retention, description, value, stream, batch_rows, netns)");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"q": {"query": "SELECT 1", "interval": 0}}})",
               "query 'q': \"interval\" must be a number of seconds from 0.001 to 31622400");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"q": {"query": "SELEC 1", "interval": 5}}})",
               "query 'q' does not compile: near \"SELEC\": syntax error");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"q": {"query": "SELECT * FROM nope", "interval": 5}}})",
               "query 'q' does not compile: no such table: nope");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"drop table x": {)" + good_query + "}}}",
               "query name 'drop table x' may hold only letters, digits and '_'");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"routes": {)" + good_query + "}}}",
               "query name 'routes' is the name of a netsql table; pick another");
  expect_error(R"({"db": ")" + db + R"(", "schedule": {"q": {)" + good_query + R"(, "retention": {"max_rows": -1}}}})",
               "query 'q': retention \"max_rows\" must be a positive integer");
  expect_error(R"({"schedule": {"q": {)" + good_query + "}}}", "missing \"db\": the history database path (or --db FILE)");
  auto bad = config("{not json");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err.rfind("Error: " + c + ": not valid JSON: ", 0), 0u) << bad.err;
  auto r = config(R"({"db": "/nonexistent/dir/h.db", "schedule": {"q": {)" + good_query + "}}}");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: cannot open /nonexistent/dir/h.db: unable to open database file\n");
  r = netsql("schedule /nonexistent/config.json");
  EXPECT_EQ(r.err, "Error: /nonexistent/config.json: cannot open: No such file or directory\n");
  // Schema drift: the same name with other columns.
  EXPECT_EQ(netsql("snapshot --db " + db + " --name drift \"SELECT 1 AS a\"").status, 0);
  r = netsql("snapshot --db " + db + " --name drift \"SELECT 1 AS a, 2 AS b\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: query 'drift': result columns changed (history table has a, snapshot_id, snapshot_time; query "
                   "gives a, b, snapshot_id, snapshot_time); rename the query or drop table drift\n");
}

TEST(HistoryErrors, RunTimeFailureIsRecordedAndTheSchedulerGoesOn) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << R"({"db": ")" << db << R"json(", "schedule": {
      "broken": {"query": "SELECT local_port FROM tcp_sockets('no-such-ns')", "interval": 0.05},
      "fine": {"query": "SELECT 1 AS one", "interval": 0.05, "snapshot": true}}})json";
  pid_t pid = start_schedule(cfg);
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] {
    return h.catalog_count("name = 'fine' AND error IS NULL") >= 3 && h.catalog_count("name = 'broken'") >= 3;
  }));
  kill(pid, SIGINT);
  waitpid(pid, nullptr, 0);
  EXPECT_GE(h.scalar("SELECT count(*) FROM snapshots WHERE name = 'fine' AND error IS NULL"), 3);
  auto errors = h.rows("SELECT DISTINCT error FROM snapshots WHERE name = 'broken'");
  EXPECT_EQ(errors, (std::vector<Row>{{"tcp_sockets: no such network namespace: no-such-ns"}}));
}

TEST(HistoryExample, ShippedConfigRuns) {
  // examples/schedule/netsql-schedule.json, with its paths pointed at a
  // temporary directory: every query compiles and records a snapshot.
  TempDir dir;
  std::ifstream in(NETSQL_SOURCE_DIR "/examples/schedule/netsql-schedule.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string cfg = ss.str();
  for (const std::string path : {"/var/lib/netsql/history.db", "/var/log/netsql/results.log"}) {
    size_t at = cfg.find(path);
    ASSERT_NE(at, std::string::npos) << path;
    cfg.replace(at, path.size(), dir.path + path.substr(path.rfind('/')));
  }
  std::string cfg_path = dir.path + "/schedule.json";
  std::ofstream(cfg_path) << cfg;
  pid_t pid = start_schedule(cfg_path);
  // Each query runs once at start-up (the intervals are minutes long);
  // its log line follows its catalog row.
  HistoryDb h(dir.path + "/history.db");
  EXPECT_TRUE(wait_until([&] { return h.catalog_count() >= 3; }));
  EXPECT_TRUE(wait_until([&] {
    std::ifstream log(dir.path + "/results.log");
    std::string line;
    return static_cast<bool>(std::getline(log, line));
  }));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(h.rows("SELECT name, mode, error FROM snapshots ORDER BY name"),
            (std::vector<Row>{{"connection_states", "snapshot", std::nullopt},
                              {"listening_ports", "differential", std::nullopt},
                              {"route_table", "differential", std::nullopt}}));
}

TEST(HistoryLog, OsqueryEventFormat) {
  TempDir dir;
  std::string db = dir.path + "/h.db", log = dir.path + "/results.log";
  EXPECT_EQ(netsql("snapshot --db " + db + " --name d --differential --log " + log + " \"SELECT 1 AS n, 'x' AS s\"").status, 0);
  EXPECT_EQ(netsql("snapshot --db " + db + " --name snap --log " + log + " \"SELECT 1 AS n\"").status, 0);
  std::ifstream f(log);
  std::string l1, l2;
  std::getline(f, l1);
  std::getline(f, l2);
  EXPECT_NE(l1.find("\"name\":\"d\""), std::string::npos) << l1;
  EXPECT_NE(l1.find("\"columns\":{\"n\":\"1\",\"s\":\"x\"},\"action\":\"added\""), std::string::npos) << l1;
  EXPECT_NE(l1.find("\"counter\":0,\"numerics\":false"), std::string::npos) << l1;
  EXPECT_NE(l1.find("\"calendarTime\":\""), std::string::npos) << l1;
  EXPECT_EQ(l2.rfind("{\"snapshot\":[{\"n\":\"1\"}],\"action\":\"snapshot\",\"name\":\"snap\"", 0), 0u) << l2;
}

// Numbers that would overflow time arithmetic (the cutoff of max_age_s, the
// next due time of an interval) are refused at start-up, naming the key.
TEST(HistoryErrors, OutOfRangeNumbersInAConfigAreRefused) {
  TempDir dir;
  std::string db = dir.path + "/h.db", c = dir.path + "/c.json";
  auto expect_error = [&](const std::string& query, const std::string& message) {
    std::ofstream(c) << R"({"db": ")" + db + R"(", "schedule": {"q": {)" + query + "}}}";
    auto r = netsql("schedule " + c);
    EXPECT_EQ(r.status, 1) << query;
    EXPECT_EQ(r.err, "Error: " + c + ": query 'q': " + message + "\n") << query;
  };
  const std::string q = R"("query": "SELECT 1 AS x")";
  const std::string interval = "\"interval\" must be a number of seconds from 0.001 to 31622400";
  for (const char* bad : {"1e10", "1e308", "31622400.5", "0", "-1", "0.0009", "1e-300", "\"ten\"", "\"1e10\"", "\"0x10\"", "null"})
    expect_error(q + ", \"interval\": " + bad, interval);
  const std::string age = "retention \"max_age_s\" must be an integer from 1 to 3162240000 (seconds)";
  for (const char* bad : {"9223372036854775807", "18446744073709551615", "3162240001", "1e300", "1.5", "0", "-1", "\"5\""})
    expect_error(q + R"(, "interval": 10, "retention": {"max_age_s": )" + bad + "}", age);
  const std::string rows = "retention \"max_rows\" must be a positive integer";
  for (const char* bad : {"18446744073709551615", "9223372036854775808", "1e300", "0", "-9223372036854775808"})
    expect_error(q + R"(, "interval": 10, "retention": {"max_rows": )" + bad + "}", rows);
  // Nothing ran: no history database was written.
  EXPECT_NE(access(db.c_str(), F_OK), 0);
}

// `netsql snapshot` numbers are parsed strictly: the whole argument is the
// number, and it is in range.
TEST(HistoryErrors, SnapshotOptionNumbersAreStrict) {
  TempDir dir;
  std::string db = dir.path + "/h.db";
  // Each refusal is one line naming the problem, then the command's usage.
  auto refusal = [](const std::string& err) { return err.substr(0, err.find('\n') + 1); };
  const std::string usage = "usage: netsql snapshot";
  for (const char* bad : {"9223372036854775807", "3162240001", "2abc", "nan", "-1", "0", "1e3", " 5", ""}) {
    auto r = netsql("snapshot --db " + db + " --name q --max-age-s '" + bad + "' \"SELECT 1 AS x\"");
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_EQ(refusal(r.err), "netsql snapshot: option '--max-age-s' needs an integer from 1 to 3162240000 (seconds)\n") << bad;
    EXPECT_NE(r.err.find(usage), std::string::npos) << bad;
  }
  for (const char* bad : {"99999999999999999999", "2abc", "nan", "-1", "0", "0x10", "5 "}) {
    auto r = netsql("snapshot --db " + db + " --name q --max-rows '" + bad + "' \"SELECT 1 AS x\"");
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_EQ(refusal(r.err), "netsql snapshot: option '--max-rows' needs a positive integer\n") << bad;
  }
  auto r = netsql("snapshot --db " + db + " --name q --max-age-s");
  EXPECT_EQ(refusal(r.err), "netsql snapshot: option '--max-age-s' needs a value\n");
  r = netsql("snapshot --db " + db + " --name q \"SELECT 1 AS x\" \"DROP TABLE snapshots\"");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(refusal(r.err), "netsql snapshot: give the SQL as one argument (quote it)\n");
  EXPECT_NE(access(db.c_str(), F_OK), 0);
  r = netsql("snapshot --db " + db + " --name q --max-age-s 3162240000 --max-rows 9223372036854775807 \"SELECT 1 AS x\"");
  EXPECT_EQ(r.out, "q: snapshot 1, 1 rows, 1 added, 0 removed\n") << r.err;
}

// A scheduled query is one read-only statement: it can neither change the
// history database nor smuggle a second statement past the checks.
TEST(HistoryErrors, OnlyOneReadOnlyStatement) {
  TempDir dir;
  std::string db = dir.path + "/h.db", c = dir.path + "/c.json";
  ASSERT_EQ(netsql("snapshot --db " + db + " --name kept \"SELECT 1 AS x\"").status, 0);
  auto expect_error = [&](const std::string& sql, const std::string& message) {
    std::ofstream(c) << R"({"db": ")" + db + R"(", "schedule": {"fine": {"query": "SELECT 1 AS y", "interval": 1}, "q": {"query": ")" +
                            sql + R"(", "interval": 1}}})";
    auto r = netsql("schedule " + c);
    EXPECT_EQ(r.status, 1) << sql;
    EXPECT_EQ(r.err, "Error: " + c + ": query 'q' " + message + "\n") << sql;
    // The same from the command line.
    std::string text = sql;  // as JSON reads it
    for (size_t at; (at = text.find("\\n")) != std::string::npos;) text.replace(at, 2, "\n");
    std::ofstream(dir.path + "/q.sql") << text;
    r = netsql("snapshot --db " + db + " --name q \"$(cat " + dir.path + "/q.sql)\"");
    EXPECT_EQ(r.status, 1) << sql;
    EXPECT_EQ(r.err, "Error: query 'q' " + message + "\n") << sql;
  };
  const std::string writes = "is not read-only (a scheduled query may only read)";
  const std::string more = "must be one statement: there is more SQL after the first ';'";
  expect_error("PRAGMA journal_mode=DELETE", writes);
  expect_error("DELETE FROM snapshots RETURNING id", writes);
  expect_error("UPDATE snapshots SET error = 'x' RETURNING id", writes);
  expect_error("CREATE TABLE t AS SELECT 1 AS x", writes);
  expect_error("SELECT 1 AS x; DROP TABLE kept", more);
  expect_error("SELECT 1 AS x; SELECT 2 AS x", more);
  expect_error("SELECT 1 AS x; -- fine so far\\n DELETE FROM snapshots", more);
  expect_error("SELECT 1 AS x; nonsense", more);
  HistoryDb h(db);
  EXPECT_EQ(h.rows("PRAGMA journal_mode"), (std::vector<Row>{{"wal"}}));
  EXPECT_EQ(h.rows("SELECT id, name, error FROM snapshots"), (std::vector<Row>{{"1", "kept", std::nullopt}}));
  EXPECT_EQ(h.rows("SELECT x FROM kept"), (std::vector<Row>{{"1"}}));
  // Comments, blank space and empty statements after the query are fine.
  auto r = netsql("snapshot --db " + db + " --name q \"SELECT 2 AS x; -- the end\n ;; /* really */ \"");
  EXPECT_EQ(r.out, "q: snapshot 2, 1 rows, 1 added, 0 removed\n") << r.err;
}

TEST(HistoryErrors, DuplicateColumnNamesAreRefusedAtStartUp) {
  TempDir dir;
  std::string db = dir.path + "/h.db", c = dir.path + "/c.json";
  auto expect_error = [&](const std::string& sql, const std::string& message) {
    std::ofstream(c) << R"({"db": ")" + db + R"(", "schedule": {"q": {"query": ")" + sql + R"(", "interval": 1}}})";
    auto r = netsql("schedule " + c);
    EXPECT_EQ(r.status, 1) << sql;
    EXPECT_EQ(r.err, "Error: " + c + ": query 'q' " + message + "\n") << sql;
  };
  expect_error("SELECT 1 AS x, 2 AS x", "has two columns named x; give each its own name (AS ...)");
  // SQLite's column names are case-insensitive.
  expect_error("SELECT 1 AS x, 2 AS X", "has two columns named X; give each its own name (AS ...)");
  expect_error("SELECT local_port, local_port FROM tcp_sockets",
               "has two columns named local_port; give each its own name (AS ...)");
  expect_error("SELECT 1 AS Snapshot_Time", "has a column named Snapshot_Time, which history tables use themselves");
  expect_error("SELECT 1 AS netsql_count", "has a column named netsql_count, which history tables use themselves");
  HistoryDb h(db);
  EXPECT_EQ(h.catalog_count(), 0);
}

// A failure anywhere in a run, also inside its transaction, becomes that
// run's catalog row, and the scheduler goes on.
TEST(HistoryErrors, FailureInsideTheTransactionIsRecorded) {
  TempDir dir;
  std::string db = dir.path + "/h.db";
  const std::string snap = "snapshot --db " + db + " --name q --differential \"SELECT 1 AS x\"";
  ASSERT_EQ(netsql(snap).status, 0);
  HistoryDb h(db);
  h.rows("CREATE TRIGGER frozen BEFORE INSERT ON q BEGIN SELECT RAISE(ABORT, 'history is frozen'); END");
  h.rows("DELETE FROM netsql_baseline_q");  // so that the next run has a row to add
  auto r = netsql(snap);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: query 'q': history is frozen\n");
  EXPECT_EQ(h.rows("SELECT id, rows, added, removed, error FROM snapshots ORDER BY id"),
            (std::vector<Row>{{"1", "1", "1", "0", std::nullopt}, {"2", "0", "0", "0", "history is frozen"}}));
  // Nothing of the failed run stayed: the baseline is as the run found it.
  EXPECT_EQ(h.scalar("SELECT count(*) FROM netsql_baseline_q"), 0);
  // A history table dropped to start over takes its stale baseline with it.
  h.rows("DROP TABLE q");
  r = netsql("snapshot --db " + db + " --name q --differential \"SELECT 1 AS x, 2 AS y\"");
  EXPECT_EQ(r.out, "q: snapshot 3, 1 rows, 1 added, 0 removed\n") << r.err;
}

// The longest interval is a year, not "back to back": while a fast query
// runs many times, the slow one has run once.
TEST(HistorySchedule, LongestIntervalRunsOnce) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << R"({"db": ")" << db << R"(", "schedule": {
      "slow": {"query": "SELECT 1 AS x", "interval": 31622400, "snapshot": true},
      "fast": {"query": "SELECT 1 AS x", "interval": 0.001, "snapshot": true}}})";
  pid_t pid = start_schedule(cfg);
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] { return h.catalog_count("name = 'fast'") >= 50; }));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(h.catalog_count("name = 'slow'"), 1);
}

// A large result streams into the history database: the shell's peak
// memory stays bounded (the result is ~30 MB as text, several times that
// held as values), for snapshot and differential runs and their logs.
TEST(HistoryMemory, LargeResultsStreamInBoundedMemory) {
  TempDir dir;
  std::string db = dir.path + "/h.db", log = dir.path + "/results.log";
  auto rows_from = [](int first, int last) {
    // Every row twice (i / 2), 100 characters of text each.
    return "\"WITH RECURSIVE r(i) AS (SELECT " + std::to_string(first) + " UNION ALL SELECT i + 1 FROM r WHERE i < " +
           std::to_string(last) + ") SELECT i / 2 AS v, printf('%0100d', i / 2) AS s FROM r\"";
  };
  // Under AddressSanitizer the peak is the sanitizer's (quarantine, shadow,
  // 500-700 MB here whatever the result size): only the release build
  // measures ours; the rows are checked in both.
  const long kBoundKb = kSanitizerMemoryFactor == 1 ? 64 * 1024 : std::numeric_limits<long>::max();
  auto r = netsql("snapshot --db " + db + " --name big --differential --log " + log + " " + rows_from(1, 200000));
  EXPECT_EQ(r.out, "big: snapshot 1, 200000 rows, 200000 added, 0 removed\n") << r.err;
  EXPECT_LT(r.peak_kb, kBoundKb);
  r = netsql("snapshot --db " + db + " --name big --differential --log " + log + " " + rows_from(100001, 300000));
  EXPECT_EQ(r.out, "big: snapshot 2, 200000 rows, 100000 added, 100000 removed\n") << r.err;
  EXPECT_LT(r.peak_kb, kBoundKb);
  r = netsql("snapshot --db " + db + " --name bigsnap --log " + log + " " + rows_from(1, 200000));
  EXPECT_EQ(r.out, "bigsnap: snapshot 3, 200000 rows, 200000 added, 0 removed\n") << r.err;
  EXPECT_LT(r.peak_kb, kBoundKb);
  HistoryDb h(db);
  // Multiset semantics at the seam: v = 50000 was there twice and is there
  // once now, so exactly one copy was removed.
  EXPECT_EQ(h.rows("SELECT action, count(*) FROM big WHERE v = 50000 GROUP BY action ORDER BY action"),
            (std::vector<Row>{{"added", "2"}, {"removed", "1"}}));
  EXPECT_EQ(h.rows("SELECT action, count(*), min(v), max(v) FROM big WHERE snapshot_id = 2 GROUP BY action ORDER BY action"),
            (std::vector<Row>{{"added", "100000", "100000", "150000"}, {"removed", "100000", "0", "50000"}}));
  EXPECT_EQ(h.rows("SELECT count(*), sum(netsql_count), min(v), max(v) FROM netsql_baseline_big"),
            (std::vector<Row>{{"100001", "200000", "50000", "150000"}}));
  EXPECT_EQ(h.scalar("SELECT count(*) FROM bigsnap"), 200000);
  // The log: one line per added or removed row, then one snapshot line.
  std::ifstream f(log);
  std::string line, last;
  long lines = 0, removed = 0;
  while (std::getline(f, line)) {
    ++lines;
    removed += line.find("\"action\":\"removed\"") != std::string::npos;
    last.swap(line);
  }
  EXPECT_EQ(lines, 200000 + 200000 + 1);
  EXPECT_EQ(removed, 100000);
  EXPECT_EQ(last.rfind("{\"snapshot\":[{\"v\":\"0\",\"s\":\"" + std::string(100, '0') + "\"},", 0), 0u) << last.substr(0, 200);
  EXPECT_NE(last.find("},{\"v\":\"100000\",\"s\":\"" + std::string(94, '0') + "100000\"}],\"action\":\"snapshot\","),
            std::string::npos);
}

}  // namespace
}  // namespace netsql::test

namespace netsql::test {
namespace {

// The schedule's collector: stream queries over closed_sockets(-1).
using Collector = NetnsTest;

std::string stream_config(const std::string& db, const std::string& name, const std::string& sql,
                          const std::string& more = "") {
  return R"({"db": ")" + db + R"(", "schedule": {")" + name + R"(": {"query": ")" + sql +
         R"(", "stream": true, "interval": 0.05)" + more + "}}}";
}

// Every batch the catalog lists holds exactly its rows, no row is outside
// a batch, no socket is recorded twice, and the file is sound.
void expect_consistent_stream(const std::string& db, const std::string& name) {
  HistoryDb h(db);
  EXPECT_EQ(h.rows("PRAGMA integrity_check"), (std::vector<Row>{{"ok"}}));
  EXPECT_EQ(h.scalar("SELECT count(*) FROM snapshots s WHERE name = '" + name + "' AND mode = 'stream' AND rows != "
                     "(SELECT count(*) FROM " + name + " t WHERE t.snapshot_id = s.id)"),
            0);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM " + name + " WHERE snapshot_id NOT IN (SELECT id FROM snapshots)"), 0);
  EXPECT_EQ(h.scalar("SELECT count(*) - count(DISTINCT cookie) FROM " + name), 0);
}

// Batches of `name` that a reader of the history sees half written: rows
// whose batch the catalog does not list, or a catalog count that is not
// the batch's rows (0 before the table exists).
long long half_written_batches(HistoryDb& h, const std::string& name) {
  if (h.catalog_count("name = '" + name + "' AND rows > 0") == 0) return 0;
  return h.scalar("SELECT (SELECT count(DISTINCT snapshot_id) FROM " + name +
                  " WHERE snapshot_id NOT IN (SELECT id FROM snapshots)) + (SELECT count(*) FROM snapshots s WHERE "
                  "name = '" + name + "' AND rows != (SELECT count(*) FROM " + name + " t WHERE t.snapshot_id = s.id))");
}

// Killed while it writes: a steady stream of closes keeps batches of 50
// coming, and a reader watches every state the file goes through (a batch
// not written in one transaction shows half written, to the reader or
// after a kill; found red without the transaction).
TEST_F(Collector, KillNineKeepsEveryCommittedBatchAndARestartContinues) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  int l = tcp_listener("127.0.0.1", 0, 1024);
  int p = local_port(l);
  std::ofstream(cfg) << stream_config(db, "flows",
                                      "SELECT local_port, cookie, bytes_sent FROM closed_sockets(-1) "
                                      "WHERE protocol = 'tcp' AND remote_port = " + std::to_string(p),
                                      R"(, "batch_rows": 50)");
  std::set<std::string> closed;  // client ports of every connection closed
  std::mutex closed_m;
  std::atomic<bool> closing{true};
  std::thread closer([&] {  // inherits the test's namespace
    while (closing) {
      std::string port = std::to_string(exchange(l, "127.0.0.1", p, 100));
      std::lock_guard lock(closed_m);
      closed.insert(port);
    }
  });
  HistoryDb h(db);
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 8; ++round) {
    pid_t pid = start_schedule(cfg);
    ASSERT_TRUE(wait_until(subscribed)) << "round " << round;
    // Killed, wherever it is, once it has committed a few more batches.
    long long goal = h.catalog_count() + 2 + rng() % 4;
    long long seen = 0;
    EXPECT_TRUE(wait_until([&] {
      seen = std::max(seen, half_written_batches(h, "flows"));
      return h.catalog_count() >= goal;
    })) << "round " << round << schedule_said(cfg);
    EXPECT_EQ(seen, 0) << "round " << round << ": a half-written batch was visible while running";
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    EXPECT_EQ(half_written_batches(h, "flows"), 0) << "round " << round << ", after the kill";
    ASSERT_TRUE(wait_until([] { return !subscribed(); }));
  }
  closing = false;
  closer.join();
  expect_consistent_stream(db, "flows");
  for (const Row& r : h.rows("SELECT local_port, bytes_sent FROM flows")) {
    EXPECT_TRUE(closed.count(*r[0])) << "a row for a connection never made: port " << *r[0];
    EXPECT_EQ(*r[1], "100");
  }
  long long before = h.scalar("SELECT count(*) FROM flows"), last_id = h.scalar("SELECT max(id) FROM snapshots");
  EXPECT_GT(before, 0);
  // A clean run goes on: every connection closed while it listens is
  // recorded once, in batches after the old ones; SIGTERM writes the rest.
  pid_t pid = start_schedule(cfg);
  ASSERT_TRUE(wait_until(subscribed));
  std::set<std::string> later;
  for (int i = 0; i < 20; ++i) later.insert(std::to_string(exchange(l, "127.0.0.1", p, 100)));
  EXPECT_TRUE(wait_until([&] { return h.scalar("SELECT count(*) FROM flows") >= before + 20; }));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::set<std::string> got;
  for (const Row& r : h.rows("SELECT local_port FROM flows WHERE snapshot_id > " + std::to_string(last_id)))
    got.insert(*r[0]);
  EXPECT_EQ(got, later);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM snapshots WHERE id > " + std::to_string(last_id) + " AND mode = 'stream' "
                     "AND (overruns != 0 OR error IS NOT NULL)"),
            0);
  expect_consistent_stream(db, "flows");
  close(l);
}

// Announcements the kernel dropped for the destroy-group listeners of the
// calling thread's namespace (/proc/net/netlink's Drops column).
long sock_diag_drops() {
  std::ifstream in("/proc/thread-self/net/netlink");
  std::string line;
  std::getline(in, line);  // header
  long drops = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk, groups;
    long eth = 0, pid = 0, rmem = 0, wmem = 0, dump = 0, locks = 0, d = 0;
    f >> sk >> eth >> pid >> groups >> rmem >> wmem >> dump >> locks >> d;
    if (eth == 4 && std::stoul(groups, nullptr, 16)) drops += d;
  }
  return drops;
}

// Stopped (SIGSTOP) while a burst of closes overflows the kernel's queue:
// the loss is recorded in the catalog's overruns, and the collector reads on.
TEST_F(Collector, KernelLossIsRecordedAndCollectionGoesOn) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << stream_config(db, "udp_flows",
                                      "SELECT local_address, local_port, cookie FROM closed_sockets(-1) WHERE protocol = 'udp'");
  pid_t pid = start_schedule(cfg);
  ASSERT_TRUE(wait_until(subscribed));
  kill(pid, SIGSTOP);
  // Closes until the kernel drops announcements for the stopped reader.
  EXPECT_TRUE(wait_until([] {
    for (int i = 0; i < 5000; ++i) close(udp_socket("127.0.0.1", 0));
    return sock_diag_drops() > 0;
  })) << "the kernel dropped nothing";
  kill(pid, SIGCONT);
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] { return h.catalog_count("overruns > 0") > 0; })) << "the loss was not recorded";
  // Closes after the burst are recorded again once the reader has drained
  // the kernel's queue (until then they may be dropped too): from another
  // address than the burst's, so no burst row can pass for one.
  EXPECT_TRUE(wait_until([&] {
    close(udp_socket("127.0.0.2", 0));
    return h.scalar("SELECT count(*) FROM udp_flows WHERE local_address = '127.0.0.2'") > 0;
  })) << "the collector stopped after the loss";
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_GT(h.scalar("SELECT sum(overruns) FROM snapshots WHERE name = 'udp_flows'"), 0);
  expect_consistent_stream(db, "udp_flows");
}

// A collector held up a moment (here: stopped) while a burst of closes
// comes loses none of them: the subscription's receive buffer (8 MiB)
// holds them until it reads again (netlink's 1 MiB held ~4,000 UDP ones).
TEST_F(Collector, ABurstWhileTheCollectorIsHeldUpIsNotLost) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << stream_config(db, "burst",
                                      "SELECT local_port, cookie FROM closed_sockets(-1) WHERE protocol = 'udp' AND "
                                      "local_address = '127.0.0.3'");
  pid_t pid = start_schedule(cfg);
  ASSERT_TRUE(wait_until(subscribed));
  kill(pid, SIGSTOP);
  std::set<std::string> ports;
  for (int i = 0; i < 12000; ++i) {
    int fd = udp_socket("127.0.0.3", 0);
    ports.insert(std::to_string(local_port(fd)));
    close(fd);
  }
  kill(pid, SIGCONT);
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] {
    return h.catalog_count("name = 'burst' AND rows > 0") > 0 && h.scalar("SELECT count(*) FROM burst") >= 12000;
  })) << "rows missing" << schedule_said(cfg);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(h.scalar("SELECT sum(overruns) FROM snapshots WHERE name = 'burst'"), 0);
  std::set<std::string> got;
  for (const Row& r : h.rows("SELECT local_port FROM burst")) got.insert(*r[0]);
  EXPECT_EQ(got, ports);
  expect_consistent_stream(db, "burst");
}

// A stream query naming opened_time and duration_ms gets them: the
// collector's scan loads the socket tracker like any other.
TEST_F(Collector, AStreamQueryRecordsWhenEachConnectionOpenedAndHowLongItLived) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  std::ofstream(cfg) << stream_config(db, "flows",
                                      "SELECT local_port, opened_time, duration_ms FROM closed_sockets(-1) "
                                      "WHERE protocol = 'tcp' AND remote_port = " + std::to_string(p));
  pid_t pid = start_schedule(cfg);
  ASSERT_TRUE(wait_until(subscribed));  // the tracker is loaded before the subscription
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  std::map<std::string, std::pair<int64_t, int64_t>> made;  // client port: wall clock before and after
  for (int i = 0; i < 5; ++i) {
    int64_t before = now_ms();
    std::string port = std::to_string(exchange(l, "127.0.0.1", p, 100));
    made[port] = {before, now_ms()};
  }
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] { return h.catalog_count("name = 'flows'") > 0 && h.scalar("SELECT count(*) FROM flows") >= 5; }))
      << schedule_said(cfg);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  auto rows = h.rows("SELECT local_port, opened_time, duration_ms FROM flows");
  ASSERT_EQ(rows.size(), 5u);
  for (const Row& r : rows) {
    SCOPED_TRACE("port " + *r[0]);
    ASSERT_TRUE(made.count(*r[0]));
    ASSERT_TRUE(r[1] && r[2]);
    auto [before, after] = made[*r[0]];
    int64_t opened = std::stoll(*r[1]), lived = std::stoll(*r[2]);
    // Opened within exchange() (in whole ms, a ms either way); closed
    // once the peer's FIN arrived, maybe after it returned.
    EXPECT_GE(opened, before - 1);
    EXPECT_LE(opened, after + 1);
    EXPECT_GE(lived, 0);
  }
  close(l);
}

// A scan that ends (a finite wait_ms) is recorded as an error, not passed
// off as a complete stream, and started again.
TEST_F(Collector, AStreamThatEndsIsRecordedAndRestarted) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << stream_config(db, "short", "SELECT cookie FROM closed_sockets(0)");
  pid_t pid = start_schedule(cfg);
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] { return h.catalog_count("name = 'short' AND error IS NOT NULL") >= 2; }));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(h.rows("SELECT DISTINCT error FROM snapshots WHERE name = 'short'"),
            (std::vector<Row>{{"the scan ended; closes until it restarts are not seen (a stream query reads "
                               "closed_sockets(-1), which listens until stopped)"}}));
}

// A stream query is checked at start on the kind of connection it runs
// on (in memory, not the history): one that reads a history table is
// refused at start, not left failing batch after batch.
TEST_F(Collector, AStreamQueryThatCannotRunOnItsConnectionStopsTheStart) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << stream_config(db, "flows",
                                      "SELECT cookie FROM closed_sockets(-1) WHERE cookie NOT IN (SELECT id FROM snapshots)");
  Ran r = netsql("schedule " + cfg);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: " + cfg + ": query 'flows': no such table: snapshots\n");
}

// With --osquery-compat a stream query may read the osquery views, as the
// start-up check allowed: its rows are recorded, no batch fails.
TEST_F(Collector, AStreamQueryRunsWithTheViewsItWasCheckedWith) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  std::ofstream(cfg) << stream_config(db, "udp_flows",
                                      "SELECT c.local_address, c.cookie FROM closed_sockets(-1) c WHERE c.protocol = 'udp' "
                                      "AND (SELECT count(*) FROM listening_ports) >= 0");
  pid_t pid = start_schedule(cfg, "--osquery-compat");
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] {
    close(udp_socket("127.0.0.1", 0));
    return h.catalog_count("name = 'udp_flows' AND (rows > 0 OR error IS NOT NULL)") > 0;
  })) << "nothing recorded";
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(h.rows("SELECT DISTINCT error FROM snapshots WHERE name = 'udp_flows' AND error IS NOT NULL"), std::vector<Row>{});
  EXPECT_GT(h.scalar("SELECT count(*) FROM udp_flows WHERE local_address = '127.0.0.1'"), 0);
}


TEST_F(Collector, FollowsSeveralNamespacesAndSaysWhich) {
  TempDir dir;
  std::string db = dir.path + "/h.db", cfg = dir.path + "/c.json";
  const std::vector<std::string> names = {"netsql-coll-a-" + std::to_string(getpid()), "netsql-coll-b-" + std::to_string(getpid())};
  for (const auto& n : names) sh("ip netns add " + n + " && ip -n " + n + " link set lo up");
  std::ofstream(cfg) << stream_config(db, "flows",
                                      "SELECT local_port, cookie FROM closed_sockets(-1) WHERE protocol = 'tcp' AND "
                                      "local_port = 9000",
                                      R"(, "netns": [")" + names[0] + R"(", ")" + names[1] + R"("])")
                             .replace(0, 1, R"({"log": ")" + dir.path + R"(/results.log", )");
  std::vector<int> listeners;
  for (const auto& n : names) in_named_netns(n, [&] { listeners.push_back(tcp_listener("127.0.0.1", 9000)); });
  int here = tcp_listener("127.0.0.1", 9000);  // the scheduler's own namespace: not followed
  pid_t pid = start_schedule(cfg);
  for (const auto& n : names) {
    EXPECT_TRUE(wait_until([&] {
      bool joined = false;
      in_named_netns(n, [&] { joined = subscribed(); });
      return joined;
    })) << n;
  }
  EXPECT_FALSE(subscribed()) << "subscribed in its own namespace too";
  // One server-side close in a, two in b, one here.
  in_named_netns(names[0], [&] { exchange(listeners[0], "127.0.0.1", 9000, 10); });
  in_named_netns(names[1], [&] {
    exchange(listeners[1], "127.0.0.1", 9000, 10);
    exchange(listeners[1], "127.0.0.1", 9000, 10);
  });
  exchange(here, "127.0.0.1", 9000, 10);
  HistoryDb h(db);
  EXPECT_TRUE(wait_until([&] { return h.catalog_count("rows > 0") > 0 && h.scalar("SELECT count(*) FROM flows") >= 3; }));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(h.rows("SELECT netns, count(*) FROM flows GROUP BY netns ORDER BY netns"),
            (std::vector<Row>{{names[0], "1"}, {names[1], "2"}}));
  // Each row is also an osquery event line.
  std::ifstream log(dir.path + "/results.log");
  std::map<std::string, int> lines;  // netns -> event lines
  for (std::string line; std::getline(log, line);) {
    EXPECT_NE(line.find(R"("name":"flows")"), std::string::npos) << line;
    EXPECT_NE(line.find(R"(,"action":"added"})"), std::string::npos) << line;
    for (const auto& n : names)
      if (line.find(R"("netns":")" + n + R"(")") != std::string::npos) ++lines[n];
  }
  EXPECT_EQ(lines, (std::map<std::string, int>{{names[0], 1}, {names[1], 2}}));
  for (int l : listeners) close(l);
  close(here);
  for (const auto& n : names) sh("ip netns del " + n);
}

TEST(CollectorErrors, StreamKeysAreCheckedAtStartUp) {
  TempDir dir;
  std::string db = dir.path + "/h.db", c = dir.path + "/c.json";
  auto expect_error = [&](const std::string& more, const std::string& message) {
    std::ofstream(c) << stream_config(db, "s", "SELECT cookie FROM closed_sockets(-1)", more);
    Ran r = netsql("schedule " + c);
    EXPECT_EQ(r.status, 1) << more;
    EXPECT_EQ(r.err, "Error: " + c + ": " + message + "\n") << more;
  };
  expect_error(R"(, "batch_rows": 0)", "query 's': \"batch_rows\" must be an integer from 1 to 10000");
  expect_error(R"(, "batch_rows": 10001)", "query 's': \"batch_rows\" must be an integer from 1 to 10000");
  expect_error(R"(, "batch_rows": 2.5)", "query 's': \"batch_rows\" must be an integer from 1 to 10000");
  expect_error(R"(, "snapshot": true)", "query 's': \"snapshot\" does not go with \"stream\" (a stream appends every row)");
  expect_error(R"(, "netns": [])", "query 's': \"netns\" must be an array of network namespaces");
  expect_error(R"(, "netns": ["a", "a"])", "query 's': \"netns\" names a twice");
  expect_error(R"(, "netns": ["netsql-no-such-ns"])", "query 's': no such network namespace: netsql-no-such-ns");
  expect_error(R"(, "stream": "yes")", "query 's': \"stream\" must be true or false");
  // A stream without an interval would hold a batch for schedule_default_interval (an hour).
  std::ofstream(c) << R"({"db": ")" << db << R"x(", "schedule": {"s": {"query": "SELECT cookie FROM closed_sockets(-1)", "stream": true}}})x";
  Ran no_interval = netsql("schedule " + c);
  EXPECT_EQ(no_interval.err,
            "Error: " + c + ": query 's': a stream needs \"interval\": the longest a batch waits to be written\n");
  std::ofstream(c) << R"({"db": ")" << db << R"(", "schedule": {"s": {"query": "SELECT 1 AS one", "interval": 1, "batch_rows": 5}}})";
  Ran r = netsql("schedule " + c);
  EXPECT_EQ(r.err, "Error: " + c + ": query 's': \"batch_rows\" goes with \"stream\": true\n");
}

}  // namespace
}  // namespace netsql::test
