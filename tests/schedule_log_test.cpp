// The scheduler's result log under logrotate: rename, then SIGHUP, and the
// scheduler writes a new file at the configured path, every line in one
// file or the other, once. And the rsyslog recipe that ships it.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.h"

namespace netsql::test {
namespace {

// The "counter" of every line of the log at `path` (osquery's: the run's
// number, from 0).
std::vector<int64_t> counters(const std::string& path) {
  std::ifstream f(path);
  std::vector<int64_t> out;
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    out.push_back(j.is_object() && j.contains("counter") ? j["counter"].get<int64_t>() : -1);
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The recipe examples/rsyslog/netsql-results.conf, as shipped, run by a
// private rsyslogd (its own config, work directory and pid file; no system
// socket): imfile tails our result log, mmjsonparse parses each line, and
// every line arrives as the same JSON object (awkward values and a line
// far past rsyslog's default 8 KB limit included).
TEST(ScheduleLog, RsyslogImfileAndMmjsonparseParseEveryLineOfTheResultLog) {
  const char* rsyslogd = "/usr/sbin/rsyslogd";
  if (access(rsyslogd, X_OK) != 0) GTEST_SKIP() << "rsyslogd is not installed (Debian package rsyslog, in .ci/deps)";
  char d[] = "/tmp/netsql-rsyslog-XXXXXX";
  const std::string dir = mkdtemp(d);
  const std::string log = dir + "/results.log";
  // The result log: differential event lines with awkward values, then a
  // snapshot line of 3000 rows (over 64 KB).
  auto snapshot = [&](const std::vector<std::string>& args) {  // netsql snapshot ARGS, no shell quoting
    std::vector<std::string> all{"netsql", "snapshot", "--db", dir + "/h.db", "--log", log};
    all.insert(all.end(), args.begin(), args.end());
    pid_t child = fork();
    if (child == 0) {
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execv(NETSQL_SHELL_PATH, argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(snapshot({"--name", "odd", "--differential", "SELECT 'quote \" backslash \\ tab \t' AS v, 'x' AS w"}), 0);
  ASSERT_EQ(snapshot({"--name", "odd", "--differential", "SELECT char(233, 10, 1, 8364) AS v, NULL AS w"}), 0);
  ASSERT_EQ(snapshot({"--name", "big", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                                      "SELECT i, 'row ' || i AS label FROM n"}),
            0);
  const std::vector<std::string> written = lines_of(log);
  ASSERT_EQ(written.size(), 4u);  // odd: added; odd: added, removed; big: one snapshot line
  ASSERT_GT(written[3].size(), 64u * 1024);  // far past rsyslog's default 8 KB
  // The recipe, pointed at this directory, under a private global section.
  std::string recipe = slurp(NETSQL_SOURCE_DIR "/examples/rsyslog/netsql-results.conf");
  for (size_t at; (at = recipe.find("/var/log/netsql")) != std::string::npos;) recipe.replace(at, 15, dir);
  std::ofstream(dir + "/rsyslog.conf") << "global(workDirectory=\"" << dir << "\" maxMessageSize=\"1m\")\n" << recipe;
  pid_t pid = fork();
  if (pid == 0) {
    int out = open((dir + "/rsyslogd.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execl(rsyslogd, "rsyslogd", "-n", "-f", (dir + "/rsyslog.conf").c_str(), "-i", (dir + "/rsyslogd.pid").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string parsed = dir + "/results.parsed.json";
  EXPECT_TRUE(wait_until([&] { return lines_of(parsed).size() >= written.size(); }, 60))
      << slurp(dir + "/rsyslogd.out") << slurp(dir + "/results.unparsed.log");
  kill(pid, SIGTERM);
  int rc = 0;
  waitpid(pid, &rc, 0);
  const std::vector<std::string> got = lines_of(parsed);
  ASSERT_EQ(got.size(), written.size()) << slurp(dir + "/results.unparsed.log");
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(nlohmann::json::parse(got[i]), nlohmann::json::parse(written[i])) << "line " << i;
  // The parsed values are the ones the queries gave (the "odd" lines, in order: added, added, removed).
  std::vector<std::string> values;
  for (size_t i = 0; i < 3; ++i) values.push_back(nlohmann::json::parse(got[i])["columns"]["v"]);
  EXPECT_EQ(values, (std::vector<std::string>{"quote \" backslash \\ tab \t", "\u00e9\n\u0001\u20ac",
                                               "quote \" backslash \\ tab \t"}));
  EXPECT_EQ(nlohmann::json::parse(got[3])["snapshot"].size(), 3000u);
  EXPECT_EQ(access((dir + "/results.unparsed.log").c_str(), F_OK), -1) << slurp(dir + "/results.unparsed.log");
  run("rm -rf " + dir);
}

TEST(ScheduleLog, RenameAndSighupReopenTheLogLosingAndRepeatingNoLine) {
  char d[] = "/tmp/netsql-logrot-XXXXXX";
  const std::string dir = mkdtemp(d);
  std::ofstream(dir + "/s.json") << R"({"db": ")" << dir << R"(/h.db", "log": ")" << dir
                                 << R"(/results.log", "schedule": {"tick": {"query": "SELECT 1 AS one", "interval": 0.02, "snapshot": true}}})";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open((dir + "/schedule.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execl(NETSQL_SHELL_PATH, "netsql", "schedule", (dir + "/s.json").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string log = dir + "/results.log", rotated = dir + "/results.log.1";
  ASSERT_TRUE(wait_until([&] { return counters(log).size() >= 3; }, 30));
  ASSERT_EQ(rename(log.c_str(), rotated.c_str()), 0);
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  EXPECT_TRUE(wait_until([&] { return counters(log).size() >= 3; }, 30)) << "no new log after SIGHUP";
  // A second rotation, with the scheduler busy.
  kill(pid, SIGHUP);
  kill(pid, SIGTERM);
  int rc = 0;
  waitpid(pid, &rc, 0);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "status " << rc;
  std::vector<int64_t> all = counters(rotated), after = counters(log);
  EXPECT_GE(all.size(), 3u);
  all.insert(all.end(), after.begin(), after.end());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i)) << "line " << i << " of both files";
  run("rm -rf " + dir);
}

TEST(ScheduleLog, DecorationsEpochAndTheBatchFormat) {
  char d[] = "/tmp/netsql-logdec-XXXXXX";
  const std::string dir = mkdtemp(d);
  std::ofstream(dir + "/s.json") << R"({"db": ")" << dir << R"(/h.db", "log": ")" << dir << R"(/results.log",
    "epoch": 42, "log_format": "batch",
    "decorators": {"load": ["SELECT 'rack-7' AS rack"], "always": ["SELECT 'x\"y' AS quoted, NULL AS empty, char(10) || CAST(x'ff' AS TEXT) AS odd"]},
    "schedule": {"ports": {"query": "SELECT 80 AS port UNION ALL SELECT 443", "interval": 0.02}}})";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open((dir + "/schedule.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execl(NETSQL_SHELL_PATH, "netsql", "schedule", (dir + "/s.json").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Differential: the first run adds both rows; later runs change nothing
  // and write no line. Wait for the catalog to show three runs.
  ASSERT_TRUE(wait_until(
      [&] { return std::atoi(run("sqlite3 " + dir + "/h.db 'SELECT count(*) FROM snapshots' 2>/dev/null").c_str()) >= 3; }, 30))
      << run("cat " + dir + "/schedule.out");
  kill(pid, SIGTERM);
  int rc = 0;
  waitpid(pid, &rc, 0);
  std::ifstream f(dir + "/results.log");
  std::vector<nlohmann::json> lines;
  std::vector<std::string> texts;
  std::string line;
  while (std::getline(f, line)) lines.push_back(nlohmann::json::parse(line)), texts.push_back(line);
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];
  // Byte for byte as osquery frames it: the envelope's members in its
  // order, the decorations (sorted by name), then diffResults.
  EXPECT_EQ(texts[0].rfind("{\"name\":\"ports\",\"hostIdentifier\":", 0), 0u) << texts[0];
  EXPECT_NE(texts[0].find(",\"epoch\":42,\"counter\":0,\"numerics\":false,\"decorations\":{\"empty\":\"\",\"hostname\":"),
            std::string::npos)
      << texts[0];
  EXPECT_TRUE(texts[0].ends_with(",\"odd\":\"\\n\xEF\xBF\xBD\",\"quoted\":\"x\\\"y\",\"rack\":\"rack-7\"},"
                                 "\"diffResults\":{\"added\":[{\"port\":\"80\"},{\"port\":\"443\"}],\"removed\":[]}}"))
      << texts[0];
  EXPECT_EQ(j["epoch"], 42);
  EXPECT_EQ(j["counter"], 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(j["decorations"], nlohmann::json({{"hostname", host}, {"rack", "rack-7"}, {"quoted", "x\"y"}, {"empty", ""},
                                              {"odd", "\n\xEF\xBF\xBD"}}));  // escaped, and U+FFFD for a stray byte
  EXPECT_EQ(j["diffResults"], nlohmann::json::parse(R"({"added": [{"port": "80"}, {"port": "443"}], "removed": []})"));
  EXPECT_FALSE(j.contains("action"));
  run("rm -rf " + dir);
}

}  // namespace
}  // namespace netsql::test
