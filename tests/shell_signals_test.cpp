// Stopping the shell with a signal: --watch runs until SIGINT or SIGTERM
// and ends with status 0 and whole lines; Ctrl-C in a one-shot run
// interrupts the statement with one message (shell/signals.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support.h"

namespace netsql::test {
namespace {

using json = nlohmann::json;

size_t count_of(const std::string& text, const std::string& mark) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(mark, at)) != std::string::npos; ++at) ++n;
  return n;
}

// `netsql ARGS` started with its standard output and error in files.
class Started {
 public:
  explicit Started(const std::vector<std::string>& args) {
    int out = mkstemp(out_), err = mkstemp(err_);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> argv{const_cast<char*>("netsql")};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(NETSQL_SHELL_PATH, argv.data());
      _exit(127);
    }
    close(out);
    close(err);
  }
  ~Started() {
    if (pid_ > 0 && status_ == -1) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    unlink(out_);
    unlink(err_);
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  // Sends `sig` until the shell exits (a signal that lands before the
  // statement starts has nothing to stop); its wait status, -1 if it did
  // not exit within 20 s.
  int stop_with(int sig) {
    wait_until([&] {
      kill(pid_, sig);
      return wait_until([&] { return waitpid(pid_, &status_, WNOHANG) == pid_; }, 1);
    }, 20);
    return status_;
  }

 private:
  char out_[32] = "/tmp/netsql-sig-out-XXXXXX", err_[32] = "/tmp/netsql-sig-err-XXXXXX";
  pid_t pid_ = -1;
  int status_ = -1;
};

// Runs `netsql ARGS` (a --watch) until `rows` lines of its output hold
// `mark` (or 10 s pass), then stops it with `sig`; returns the output and
// whether the shell exited 0.
std::pair<std::string, bool> watch_output(const std::vector<std::string>& args, const std::string& mark, size_t rows,
                                          int sig = SIGINT) {
  Started p(args);
  wait_until([&] { return count_of(p.out(), mark) >= rows; }, 10);
  int status = p.stop_with(sig);
  return {p.out(), WIFEXITED(status) && WEXITSTATUS(status) == 0};
}

// Not a terminal: no banners, the header once, every row led by the time
// of its run (UTC, ISO 8601, milliseconds), so the output parses as one
// CSV table, or as JSON lines.
TEST(Watch, RepeatsUntilInterrupted) {
  auto [text, ok] = watch_output({"--watch", "0.2", "SELECT 7 AS seven"}, ",7\r\n", 2);
  EXPECT_TRUE(ok);
  EXPECT_EQ(text.find("Every"), std::string::npos) << text;
  ASSERT_EQ(text.rfind("watch_time,seven\r\n", 0), 0u) << text;
  std::istringstream in(text.substr(text.find('\n') + 1));
  std::vector<std::string> times;
  const std::regex row(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,7\r)");
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(std::regex_match(line, row)) << line;
    times.push_back(line.substr(0, 24));
  }
  EXPECT_GE(times.size(), 2u) << text;
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()) && std::adjacent_find(times.begin(), times.end()) == times.end())
      << text;
}

// Two statements of different columns: each block under its own header,
// every run (the header comes again whenever the columns change), so that
// no row stands under another statement's header.
TEST(Watch, StatementsOfDifferentColumnsEachKeepTheirHeader) {
  auto [text, ok] = watch_output({"--watch", "0.2", "SELECT 1 AS one; SELECT 2 AS two, 3 AS three"}, ",2,3\r\n", 3);
  EXPECT_TRUE(ok);
  std::istringstream in(text);
  const std::regex one(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,1\r)"), two(R"([^,]{24},2,3\r)");
  std::string header;
  size_t blocks = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("watch_time,", 0) == 0) {
      EXPECT_NE(line, header) << "a header repeated for the same columns\n" << text;
      header = line, ++blocks;
    } else if (header == "watch_time,one\r") {
      EXPECT_TRUE(std::regex_match(line, one)) << line << "\n" << text;
    } else {
      EXPECT_EQ(header, "watch_time,two,three\r") << text;
      EXPECT_TRUE(std::regex_match(line, two)) << line << "\n" << text;
    }
  }
  EXPECT_GE(blocks, 6u) << text;
  // One statement's columns: the header once.
  auto [single, done] = watch_output({"--watch", "0.2", "SELECT 1 AS one; SELECT 2 AS one"}, ",2\r\n", 2);
  EXPECT_TRUE(done);
  EXPECT_EQ(count_of(single, "watch_time,one"), 1u) << single;
  // An empty result writes no header in list mode (as sqlite3): the next
  // result of those columns still has its header due, and a result of others
  // between two of the same does not make the header come again.
  auto [empty_first, ok1] = watch_output({"-list", "--watch", "0.2", "SELECT 1 AS a WHERE 0; SELECT 2 AS a"}, "|2\n", 2);
  EXPECT_TRUE(ok1);
  EXPECT_EQ(count_of(empty_first, "watch_time|a\n"), 1u) << empty_first;
  auto [empty_between, ok2] =
      watch_output({"-list", "--watch", "0.2", "SELECT 1 AS a; SELECT 2 AS b WHERE 0; SELECT 3 AS a"}, "|3\n", 3);
  EXPECT_TRUE(ok2);
  EXPECT_EQ(count_of(empty_between, "watch_time|a\n"), 1u) << empty_between;
  EXPECT_EQ(count_of(empty_between, "watch_time|b"), 0u) << empty_between;
}

TEST(Watch, JsonLinesCarryTheTimeOfTheirRun) {
  auto [text, ok] = watch_output({"-m", "jsonl", "--watch", "0.2", "SELECT 7 AS seven, 8 AS eight"}, "\"eight\":8}", 2);
  EXPECT_TRUE(ok);
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    auto j = json::parse(line);
    EXPECT_EQ(j.size(), 3u) << line;
    EXPECT_EQ(j["seven"], 7) << line;
    EXPECT_EQ(j["watch_time"].get<std::string>().size(), 24u) << line;
  }
  EXPECT_GE(n, 2u) << text;
}

// SIGTERM (a service manager's stop) ends --watch as Ctrl-C does: status
// 0, and every line written whole, also from a run it cut short.
TEST(Watch, SigtermEndsWithStatusZeroAndWholeLines) {
  auto [text, ok] = watch_output({"-m", "jsonl", "--watch", "0.2",
                                  "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20000) SELECT n FROM c"},
                                 "\"n\":20000}", 2, SIGTERM);
  EXPECT_TRUE(ok) << text.substr(0, 200);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) EXPECT_TRUE(json::accept(line)) << line;
  EXPECT_GE(n, 40000u);
}

// Ctrl-C during a one-shot query: the query is interrupted, said once,
// and the shell exits 1 (as sqlite3 does), not killed by the signal.
TEST(Interrupt, OneShotQuerySaysInterruptedOnce) {
  // Its first row (100 kB, more than the output buffer holds) shows that
  // the statement runs; the next ones come seldom, and never end.
  Started p({"-m", "csv", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                          "SELECT hex(zeroblob(50000)) AS zeros FROM c WHERE x % 3000000 = 1"});
  ASSERT_TRUE(wait_until([&] { return !p.out().empty(); }, 20)) << p.err();
  int status = p.stop_with(SIGINT);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status << ": " << p.err();
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(p.err(), "Error: interrupted\n");
}

// SIGTERM while --watch is blocked writing to a full pipe (a reader that
// fell behind): the write completes, no line is cut short.
TEST(Watch, SigtermWhileBlockedOnAFullPipeKeepsLinesWhole) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    execl(NETSQL_SHELL_PATH, "netsql", "-m", "jsonl", "--watch", "0.2",
          "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000) "
          "SELECT n, 'padding padding padding' AS p FROM c",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  const int capacity = fcntl(fds[0], F_GETPIPE_SZ);
  ASSERT_TRUE(wait_until([&] {
    int queued = 0;
    return ioctl(fds[0], FIONREAD, &queued) == 0 && queued >= capacity;
  }, 20));  // the pipe is full: the shell waits in write()
  // Twice: a signal that lands in a write that had written part of its
  // bytes only ends that write early (stdio writes the rest next); the
  // second lands in a write that has written nothing, which without
  // SA_RESTART fails with EINTR, and stdio drops its buffer.
  auto in_write = [&] {
    std::ifstream sys("/proc/" + std::to_string(pid) + "/syscall"), st("/proc/" + std::to_string(pid) + "/status");
    std::string nr, fd, line;
    sys >> nr >> fd;
    bool pending = false;
    while (std::getline(st, line))
      if (line.rfind("ShdPnd:", 0) == 0 || line.rfind("SigPnd:", 0) == 0)
        pending |= std::stoull(line.substr(line.find(':') + 1), nullptr, 16) != 0;
    return nr == "1" && fd == "0x1" && !pending;
  };
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(wait_until(in_write, 20));
    kill(pid, SIGTERM);
  }
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << text.substr(text.size() - std::min<size_t>(text.size(), 200));
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) ASSERT_TRUE(json::accept(line)) << line;
}

// A shell started with SIGINT ignored (a background job of a script)
// leaves it ignored: the terminal's Ctrl-C is not for it.
TEST(Interrupt, AnIgnoredSigintStaysIgnored) {
  char out[] = "/tmp/netsql-sigign-XXXXXX";
  int fd = mkstemp(out);
  ASSERT_GE(fd, 0);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGINT, SIG_IGN);
    dup2(fd, 1);
    // A first row (100 kB: written at once) and then none, never ending.
    execl(NETSQL_SHELL_PATH, "netsql", "-m", "csv",
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
          "SELECT hex(zeroblob(50000)) AS zeros FROM c WHERE x % 3000000000 = 1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fd);
  auto mask = [&](const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind(field, 0) == 0) return std::stoull(line.substr(line.find(':') + 1), nullptr, 16);
    return 0ull;
  };
  // The query runs: the shell has set up its signals.
  EXPECT_TRUE(wait_until([&] { return !slurp(out).empty(); }, 20));
  const unsigned long long sigint = 1ull << (SIGINT - 1);
  EXPECT_EQ(mask("SigCgt:") & sigint, 0u);
  EXPECT_NE(mask("SigIgn:") & sigint, 0u);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  unlink(out);
}

}  // namespace
}  // namespace netsql::test
