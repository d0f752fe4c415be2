// The netsql REPL driven through a pseudo-terminal: multi-line statements,
// dot commands, one message for Ctrl-C, Ctrl-D, .once and .open; and its
// completion candidates.
#include <dlfcn.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "repl_completion.h"
#include "support.h"

namespace netsql::test {
namespace {

// A pseudo-terminal session with the REPL; `in_child` runs in the child
// before netsql starts.
class Pty {
 public:
  explicit Pty(const std::function<void()>& in_child = {}) {
    char home[] = "/tmp/netsql-home-XXXXXX";
    home_ = mkdtemp(home);
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      if (in_child) in_child();
      setenv("HOME", home_.c_str(), 1);
      setenv("TERM", "dumb", 1);
      execl(NETSQL_SHELL_PATH, "netsql", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Pty() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
    run("rm -rf " + home_);
  }
  void send(const std::string& s) { ASSERT_EQ(write(fd_, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
  // Reads until `want` shows up in the output (or 10 s pass).
  bool expect(const std::string& want) { return expect_within(want, 10000); }
  bool expect_within(const std::string& want, int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (seen_.find(want, from_) != std::string::npos) {
        from_ = seen_.find(want, from_) + want.size();
        return true;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[4096];
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0) break;
        seen_.append(buf, static_cast<size_t>(n));
      }
    }
    return false;
  }
  // Exit status once the shell has exited; -2 if it is still running
  // after `tries` polls 50 ms apart.
  int wait_exit(int tries = 100) {
    int status = 0;
    for (int i = 0; i < tries; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -2;
  }
  const std::string& seen() const { return seen_; }
  std::string home_;

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string seen_;
  size_t from_ = 0;
};

TEST(Repl, MultiLineDotCommandsInterruptAndExit) {
  Pty t;
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  t.send("SELECT 40\n");
  ASSERT_TRUE(t.expect("...> ")) << t.seen();
  t.send("+ 2 AS answer;\n");
  ASSERT_TRUE(t.expect("42")) << t.seen();
  t.send(".tables\n");
  ASSERT_TRUE(t.expect("tcp_sockets")) << t.seen();
  t.send(".schema routes\n");
  ASSERT_TRUE(t.expect("nexthop_weight")) << t.seen();
  t.send("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\n");
  // Ctrl-C until the query reports it was interrupted (a Ctrl-C that lands
  // before the query starts has nothing to stop).
  bool stopped = false;
  for (int i = 0; i < 20 && !stopped; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    t.send("\x03");
    stopped = t.expect_within("interrupted", 2000);
  }
  ASSERT_TRUE(stopped) << t.seen();
  t.send("SELECT 6 * 7 AS again;\n");
  ASSERT_TRUE(t.expect("42")) << t.seen();
  // One message for the interrupted query, not two.
  size_t said = 0;
  for (size_t at = t.seen().find("interrupted"); at != std::string::npos; at = t.seen().find("interrupted", at + 1)) ++said;
  EXPECT_EQ(said, 1u) << t.seen();
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  // Ctrl-D: a key typed while the line editor is still switching the
  // terminal mode can be dropped by the tty, so type it again if needed.
  int status = -2;
  for (int i = 0; i < 10 && status == -2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    t.send("\x04");
    status = t.wait_exit(10);
  }
  EXPECT_EQ(status, 0) << t.seen();
  std::ifstream hist(t.home_ + "/.netsql_history");
  std::stringstream h;
  h << hist.rdbuf();
  EXPECT_NE(h.str().find("again"), std::string::npos) << h.str() << "\n---\n" << t.seen();
}

// libedit is opened when the prompt starts (shell/libedit.cpp): a one-shot
// query never maps it, and the prompt still edits lines with it.
TEST(Repl, LinesAreEditedWithLibeditOpenedWhenThePromptStarts) {
  Pty t;
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  // Ctrl-A moves to the start of the line: only a line editor does that.
  t.send("40 + 2 AS edited;\x01SELECT \r");
  ASSERT_TRUE(t.expect("42")) << t.seen();
  EXPECT_EQ(t.seen().find("Error"), std::string::npos) << t.seen();
}

// And SQLite is linked in when built with libsqlite3.a (CMakeLists.txt:
// NETSQL_STATIC_SQLITE): a one-shot query loads libc and libm only.
TEST(Repl, AOneShotQueryDoesNotLoadLibeditNorLibsqlite3) {
  // ld.so names every library it loads ("file=libedit.so.2 [0];  needed by ...").
  std::string loaded = run("LD_DEBUG=files " NETSQL_SHELL_PATH " 'SELECT 1' 2>&1 >/dev/null");
  EXPECT_NE(loaded.find("file=libc.so.6"), std::string::npos) << loaded;  // LD_DEBUG did report
  EXPECT_EQ(loaded.find("libedit"), std::string::npos) << loaded;
  EXPECT_EQ(loaded.find("file=libsqlite3") != std::string::npos, NETSQL_SHELL_LINKS_LIBSQLITE3 == 1) << loaded;
}

// Without libedit the prompt says what is missing and exits; one-shot
// queries still run. libedit is hidden by mounting an empty file over it
// in a private mount namespace.
TEST(Repl, WithoutLibeditThePromptSaysSoAndQueriesStillRun) {
  void* lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  Dl_info info{};
  ASSERT_NE(dladdr(dlsym(lib, "readline"), &info), 0);
  std::string path = info.dli_fname;
  auto hide_libedit = [&] {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr) != 0)
      _exit(126);
  };
  Pty t(hide_libedit);
  ASSERT_TRUE(t.expect("Error: the prompt needs libedit (cannot load libedit.so.2")) << t.seen();
  EXPECT_EQ(t.wait_exit(), 1) << t.seen();
  pid_t pid = fork();
  if (pid == 0) {
    hide_libedit();
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execl(NETSQL_SHELL_PATH, "netsql", "SELECT 1", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = -1;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  dlclose(lib);
}

TEST(Repl, OnceWritesAFileAndOpenReadsAHistoryDatabase) {
  Pty t;
  std::string db = t.home_ + "/h.db";
  sh("sqlite3 " + db + " \"CREATE TABLE snap(name TEXT); INSERT INTO snap VALUES ('from history')\"");
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  // Tab completes the dot command's name.
  t.send(".onc\t");
  ASSERT_TRUE(t.expect(".once ")) << t.seen();
  t.send(t.home_ + "/once.txt\n");
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  t.send("SELECT 40 + 2 AS answer;\n");
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  t.send("SELECT 'back' AS here;\n");
  ASSERT_TRUE(t.expect("back")) << t.seen();
  EXPECT_NE(slurp(t.home_ + "/once.txt").find("42"), std::string::npos);
  EXPECT_EQ(slurp(t.home_ + "/once.txt").find("back"), std::string::npos);
  t.send(".open " + db + "\n");
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  t.send("SELECT name FROM snap;\n");
  ASSERT_TRUE(t.expect("from history")) << t.seen();
  t.send(".exit 4\n");
  EXPECT_EQ(t.wait_exit(), 4) << t.seen();
}

// Through the terminal: recv_q (a column of several tables) completes as
// the one candidate it is (libedit adds the blank only then), and with a
// table named only its columns are offered: "broad" is broadcast_mac in
// interfaces (interface_addresses' broadcast is left out).
TEST(Repl, TabCompletesAColumnOnceAndOnlyTheNamedTablesColumns) {
  Pty t;
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  t.send("SELECT recv_\t");
  ASSERT_TRUE(t.expect("recv_q ")) << t.seen();
  t.send("FROM tcp_sockets WHERE 0;\n");
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  t.send("SELECT count(*) AS n FROM interfaces WHERE broad\t");
  ASSERT_TRUE(t.expect("broadcast_mac ")) << t.seen();
  t.send("IS NULL AND 0;\n");
  ASSERT_TRUE(t.expect("netsql> ")) << t.seen();
  EXPECT_EQ(t.seen().find("Error"), std::string::npos) << t.seen();
  t.send(".quit\n");
  EXPECT_EQ(t.wait_exit(), 0) << t.seen();
}

TEST(ReplCompletion, DotCommandsTheirArgumentsAndScopedColumns) {
  using shell::complete_at;
  EXPECT_EQ(complete_at("", ".o", {}).words, (std::vector<std::string>{".once", ".open", ".output"}));
  EXPECT_EQ(complete_at(".mode ", "b", {}).words, (std::vector<std::string>{"box"}));
  EXPECT_EQ(complete_at(".headers ", "o", {}).words, (std::vector<std::string>{"off", "on"}));
  EXPECT_EQ(complete_at(".dump ", "sn", {"snap"}).words, (std::vector<std::string>{"snap"}));
  EXPECT_EQ(complete_at(".import x.csv ", "sn", {"snap"}).words, (std::vector<std::string>{"snap"}));
  EXPECT_TRUE(complete_at(".open ", "/tm", {}).files);
  EXPECT_TRUE(complete_at(".tables ", "", {}).words.empty());
  // recv_q is a column of several tables: offered once.
  EXPECT_EQ(complete_at("SELECT ", "recv_", {}).words, (std::vector<std::string>{"recv_q"}));
  // With a table named, only its columns; with none, every table's.
  auto none = complete_at("SELECT ", "local_p", {}).words;
  EXPECT_EQ(none, (std::vector<std::string>{"local_port"}));
  EXPECT_TRUE(complete_at("SELECT * FROM interfaces WHERE ", "local_p", {}).words.empty());
  EXPECT_EQ(complete_at("SELECT * FROM Tcp_Sockets WHERE ", "local_p", {}).words, none);
  auto tables = complete_at("SELECT * FROM ", "tcp", {}).words;
  EXPECT_EQ(tables, (std::vector<std::string>{"tcp_sockets"}));
}

}  // namespace
}  // namespace netsql::test
