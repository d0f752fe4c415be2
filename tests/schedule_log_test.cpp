// The scheduler's result log under logrotate: rename, then SIGHUP, and the
// scheduler writes a new file at the configured path, every line in one
// file or the other, once.
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
    "decorators": {"load": ["SELECT 'rack-7' AS rack"], "always": ["SELECT 'x\"y' AS quoted, NULL AS empty"]},
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
  std::string line;
  while (std::getline(f, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];
  EXPECT_EQ(j["epoch"], 42);
  EXPECT_EQ(j["counter"], 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(j["decorations"], nlohmann::json({{"hostname", host}, {"rack", "rack-7"}, {"quoted", "x\"y"}, {"empty", ""}}));
  EXPECT_EQ(j["diffResults"], nlohmann::json::parse(R"({"added": [{"port": "80"}, {"port": "443"}], "removed": []})"));
  EXPECT_FALSE(j.contains("action"));
  run("rm -rf " + dir);
}

}  // namespace
}  // namespace netsql::test
