// The netsql shell: output formats (golden, JSON parsed back), errors,
// scripts and --db, and the netstat front end against the real netstat in
// a private namespace. The REPL: shell_repl_test; signals: shell_signals_test.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kernel/names.h"
#include "script.h"
#include "support.h"

namespace netsql::test {
namespace {

using json = nlohmann::json;


const std::string kQuery =
    "\"SELECT 1 AS n, NULL AS missing, 'a,b' AS comma, 'say \\\"hi\\\"' AS quote, 'two' || char(10) || 'lines' AS nl, "
    "'héllo ✓' AS utf8, 2.5 AS r\"";

TEST(ShellOutput, Csv) {
  auto r = netsql("-m csv " + kQuery);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "n,missing,comma,quote,nl,utf8,r\r\n1,,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",héllo ✓,2.5\r\n");
  EXPECT_EQ(netsql("-m csv --no-header \"SELECT 1, 'x'\"").out, "1,x\r\n");
  // Not a terminal: csv by default.
  EXPECT_EQ(netsql("\"SELECT 1 AS a\"").out, "a\r\n1\r\n");
}

TEST(ShellOutput, Tsv) {
  EXPECT_EQ(netsql("-m tsv " + kQuery).out,
            "n\tmissing\tcomma\tquote\tnl\tutf8\tr\n1\t\ta,b\tsay \"hi\"\ttwo\\nlines\théllo ✓\t2.5\n");
}

TEST(ShellOutput, JsonKeepsTypesAndParsesBack) {
  auto r = netsql("-m json " + kQuery);
  auto j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["n"], 1);
  EXPECT_TRUE(j[0]["n"].is_number_integer());
  EXPECT_TRUE(j[0]["missing"].is_null());
  EXPECT_EQ(j[0]["quote"], "say \"hi\"");
  EXPECT_EQ(j[0]["nl"], "two\nlines");
  EXPECT_EQ(j[0]["utf8"], "héllo ✓");
  EXPECT_EQ(j[0]["r"], 2.5);
  EXPECT_EQ(netsql("-m json \"SELECT 1 WHERE 0\"").out, "[]\n");
  auto l2 = netsql("-m jsonl \"SELECT column1 AS v, char(9) || char(1) AS c FROM (VALUES (1), (2))\"");
  EXPECT_EQ(l2.out, "{\"v\":1,\"c\":\"\\t\\u0001\"}\n{\"v\":2,\"c\":\"\\t\\u0001\"}\n");
  std::istringstream in(l2.out);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) EXPECT_EQ(json::parse(line)["v"], ++n);
}

TEST(ShellOutput, TableLineMarkdown) {
  EXPECT_EQ(netsql("-m table \"SELECT 1 AS n, NULL AS missing, 'héllo' AS s UNION ALL SELECT 100, 'x', 'a|b'\"").out,
            "n   | missing | s\n"
            "----+---------+------\n"
            "  1 | NULL    | héllo\n"
            "100 | x       | a|b\n");
  EXPECT_EQ(netsql("-m line \"SELECT 1 AS n, NULL AS missing\"").out, "      n = 1\nmissing = NULL\n");
  EXPECT_EQ(netsql("-m markdown \"SELECT 'a|b' AS s, NULL AS z, 'x' || char(10) || 'y' AS nl\"").out,
            "| s | z | nl |\n| --- | --- | --- |\n| a\\|b |  | x<br>y |\n");
  // GitHub-flavoured Markdown: a backslash is doubled, a pipe escaped, so
  // that p\|q reads back as p\|q (not p|q) and a\ does not escape the
  // cell's closing pipe.
  EXPECT_EQ(netsql("-m markdown \"SELECT 'p\\|q' AS 'a\\b', 'a\\' AS t\"").out,
            "| a\\\\b | t |\n| --- | --- |\n| p\\\\\\|q | a\\\\ |\n");
}

TEST(ShellErrors, MessagesAndExitCodes) {
  auto r = netsql("\"SELEC 1\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: near \"SELEC\": syntax error\n");
  r = netsql("\"SELECT * FROM tcp_sockets WHERE state = 'LISTENING'\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Error: tcp_sockets: invalid state 'LISTENING'"), std::string::npos) << r.err;
  r = netsql("--bogus");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("netsql: unknown option '--bogus'"), std::string::npos);
  EXPECT_NE(r.err.find("usage: netsql"), std::string::npos);
  r = netsql("-m yaml \"SELECT 1\"");
  EXPECT_EQ(r.status, 2);
  r = netsql("-f /nonexistent/script.sql");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error: cannot open /nonexistent/script.sql: No such file or directory\n");
  r = netsql("netstat -tz");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(first_line(r.err), "netsql netstat: unknown option '-z'");
}

TEST(ShellInput, StdinScriptsAndDb) {
  EXPECT_EQ(netsql("", "SELECT 1 AS a; SELECT 2 AS b;").out, "a\r\n1\r\nb\r\n2\r\n");
  // Dot commands in scripts, on lines of their own.
  EXPECT_EQ(netsql("", "SELECT 1 AS a;\n.mode json\nSELECT 2 AS b;\n.headers off\n.mode csv\nSELECT 3;\n").out,
            "a\r\n1\r\n[\n{\"b\":2}\n]\n3\r\n");
  auto tables = netsql("", ".tables\n");
  EXPECT_NE(tables.out.find("tcp_sockets\n"), std::string::npos) << tables.err;
  char path[] = "/tmp/netsql-script-XXXXXX";
  int fd = mkstemp(path);
  std::string script = "CREATE TEMP TABLE t(x); INSERT INTO t VALUES (1), (2);\nSELECT sum(x) AS s FROM t;\n";
  ASSERT_EQ(write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
  close(fd);
  EXPECT_EQ(netsql(std::string("-f ") + path).out, "s\r\n3\r\n");
  unlink(path);
  std::string db = std::string("/tmp/netsql-db-") + std::to_string(getpid()) + ".sqlite";
  unlink(db.c_str());
  auto r = netsql("--db " + db + " \"CREATE TABLE saved AS SELECT name FROM interfaces WHERE name = 'lo'\"");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(netsql("--db " + db + " \"SELECT name FROM saved\"").out, "name\r\nlo\r\n");
  unlink(db.c_str());
}


TEST(ShellInput, FileThenArgumentAndRead) {
  // The SQL argument runs after the -f script, as if appended to it.
  std::string f = temp_file("SELECT 5 AS f");
  EXPECT_EQ(netsql("-f " + f + " \"SELECT 6 AS arg\"").out, "f\r\n5\r\narg\r\n6\r\n");
  std::string q = temp_file("SELECT 5 AS f;\n.quit\nSELECT 7;\n");
  EXPECT_EQ(netsql("-f " + q + " \"SELECT 6 AS arg\"").out, "f\r\n5\r\n");
  // As in sqlite3, a script goes on after an error (not with .bail on)
  // and exits 1.
  auto r = netsql("", ".read " + f + "\n.read /nonexistent.sql\nSELECT 8;\n");
  EXPECT_EQ(r.out, "f\r\n5\r\n8\r\n8\r\n");
  EXPECT_EQ(r.err, "Error: cannot open /nonexistent.sql: No such file or directory\n");
  EXPECT_EQ(r.status, 1);
  unlink(f.c_str());
  unlink(q.c_str());
}

// netsql as a child process with pipes on its standard input and output
// (standard error to a file): for tests that feed it while it runs, or
// that measure its memory.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    signal(SIGPIPE, SIG_IGN);  // writing to a child that stopped reading is EPIPE, not our death
    char err[] = "/tmp/netsql-err-XXXXXX";
    int efd = mkstemp(err);
    err_path_ = err;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) ADD_FAILURE() << "pipe2: " << strerror(errno);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(efd, 2);
      close(efd);
      std::vector<char*> argv{const_cast<char*>("netsql")};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(NETSQL_SHELL_PATH, argv.data());
      _exit(127);
    }
    close(efd);
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = out[0];
    fcntl(in_, F_SETFL, O_NONBLOCK);
    fcntl(out_, F_SETFL, O_NONBLOCK);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close_input();
    close(out_);
    unlink(err_path_.c_str());
  }

  // Writes all of `text`; false if the child stops reading (10 s deadline).
  bool send(std::string_view text) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!text.empty() && std::chrono::steady_clock::now() < until) {
      ssize_t n = write(in_, text.data(), text.size());
      if (n > 0) text.remove_prefix(static_cast<size_t>(n));
      else if (n < 0 && errno != EAGAIN) return false;
      pollfd p{in_, POLLOUT, 0};
      if (!text.empty()) poll(&p, 1, 100);
    }
    return text.empty();
  }
  void close_input() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // Reads the output until `want` is in it (true) or 10 s pass.
  bool expect(const std::string& want) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (out_seen_.find(want) == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0 && !drain()) break;
    }
    return out_seen_.find(want) != std::string::npos;
  }

  // From now on the output is only counted (End::lines), not kept: for
  // outputs larger than the test should hold.
  void count_output_only() { keep_output_ = false; }

  struct End {
    int status = -1;
    long max_rss_kib = 0;  // the child's peak resident memory
    bool killed = false;   // for passing max_kib or the deadline
    std::string out, err;
    long lines = 0;  // newlines in the output, also when it was not kept
  };
  // Waits for the child to exit, writing `endless` to its input over and
  // over if given, and killing it should its memory pass `max_kib` or it
  // run past `deadline_s` (a guard against a hang, not a timing check).
  End wait(long max_kib, std::string_view endless = {}, int deadline_s = 60) {
    End e;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(deadline_s);
    for (;;) {
      siginfo_t si{};
      if (waitid(P_PID, pid_, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid_) break;
      if (!e.killed && (rss_kib() > max_kib || std::chrono::steady_clock::now() > until)) {
        kill(pid_, SIGKILL);
        e.killed = true;
      }
      pollfd p[2] = {{out_, POLLIN, 0}, {endless.empty() ? -1 : in_, POLLOUT, 0}};
      poll(p, 2, 10);
      if (p[0].revents) drain();
      if (p[1].revents & POLLOUT) {
        if (write(in_, endless.data(), endless.size()) < 0 && errno != EAGAIN) close_input();
      } else if (p[1].revents) {
        close_input();
      }
    }
    while (drain()) {
    }
    rusage ru{};
    int status = 0;
    wait4(pid_, &status, 0, &ru);  // the peak as /usr/bin/time reports it
    pid_ = -1;
    e.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    e.max_rss_kib = ru.ru_maxrss;
    e.out = out_seen_;
    e.lines = lines_;
    std::ifstream f(err_path_);
    std::stringstream ss;
    ss << f.rdbuf();
    e.err = ss.str();
    return e;
  }
  const std::string& seen() const { return out_seen_; }

 private:
  bool drain() {
    char buf[65536];
    ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    lines_ += std::count(buf, buf + n, '\n');
    if (keep_output_) out_seen_.append(buf, static_cast<size_t>(n));
    return true;
  }
  long rss_kib() const {
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string key;
    long kib = 0;
    while (f >> key)
      if (key == "VmRSS:" && f >> kib) return kib;
    return 0;
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string err_path_, out_seen_;
  bool keep_output_ = true;
  long lines_ = 0;
};

// A script may hold one statement of up to kMaxStatementBytes: its reader
// may need that twice over while the buffer grows, plus the shell itself.
constexpr long kMaxRssKib = 3 * static_cast<long>(shell::kMaxStatementBytes) / 1024 * kSanitizerMemoryFactor;

TEST(ShellScripts, DevZeroIsRefusedAtItsFirstNulByte) {
  Child c({"-f", "/dev/zero"});
  auto e = c.wait(kMaxRssKib);
  EXPECT_FALSE(e.killed) << e.max_rss_kib << " KiB";
  EXPECT_EQ(e.status, 1);
  EXPECT_EQ(e.err, "Error: /dev/zero: line 1: NUL byte in the input (not a text file?)\n");
  EXPECT_LT(e.max_rss_kib, kMaxRssKib);
}

// A NUL inside a script ends it with an error naming the line; the
// statement is never silently cut at the NUL.
TEST(ShellScripts, NulByteStopsTheScriptAtItsLine) {
  std::string f = temp_file(std::string("SELECT 1 AS a;\nSELECT 2\0;\n", 26));
  auto r = netsql("-f " + f);
  EXPECT_EQ(r.out, "a\r\n1\r\n");
  EXPECT_EQ(r.err, "Error: " + f + ": line 2: NUL byte in the input (not a text file?)\n");
  EXPECT_EQ(r.status, 1);
  unlink(f.c_str());
}

TEST(ShellScripts, StatementOverTheLimitIsRefusedWithBoundedMemory) {
  // From a file: one line of a little more than the limit, written in
  // pieces (the child's peak includes what this process holds at fork).
  char path[] = "/tmp/netsql-big-XXXXXX";
  int fd = mkstemp(path);
  std::string piece(1 << 20, 'x'), head = "SELECT length('";
  ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  for (size_t n = 0; n < shell::kMaxStatementBytes; n += piece.size())
    ASSERT_EQ(write(fd, piece.data(), piece.size()), static_cast<ssize_t>(piece.size()));
  ASSERT_EQ(write(fd, "');\n", 4), 4);
  close(fd);
  Child c({"-f", path});
  auto e = c.wait(kMaxRssKib);
  EXPECT_FALSE(e.killed) << e.max_rss_kib << " KiB";
  EXPECT_EQ(e.err, std::string("Error: ") + path + ": line 1: statement longer than 64 MiB\n");
  EXPECT_EQ(e.status, 1);
  EXPECT_LT(e.max_rss_kib, kMaxRssKib);
  unlink(path);
  // From an endless standard input with no line end: the shell stops
  // reading at the limit.
  Child d({});
  ASSERT_TRUE(d.send("SELECT '"));
  e = d.wait(kMaxRssKib, piece);
  EXPECT_FALSE(e.killed) << e.max_rss_kib << " KiB";
  EXPECT_EQ(e.err, "Error: standard input: line 1: statement longer than 64 MiB\n");
  EXPECT_EQ(e.status, 1);
  EXPECT_LT(e.max_rss_kib, kMaxRssKib);
}

TEST(ShellScripts, LongStatementsRunWhole) {
  // A 1 MiB line (many reads) and a statement over 20,000 lines, blank
  // ones among them; a comment closed on a line without ';' ends the
  // statement before it, so the dot command after it is a command.
  std::string lines;
  for (int i = 0; i < 20000; ++i) lines += "abc\n\n";
  std::string f = temp_file("SELECT length('" + std::string(1 << 20, 'x') + "') AS n;\nSELECT length('\n" + lines +
                            "') AS m; /* a\ncomment */\n.mode json\nSELECT 1 AS j;\n");
  auto r = netsql("-f " + f);
  EXPECT_EQ(r.out, "n\r\n1048576\r\nm\r\n100001\r\n[\n{\"j\":1}\n]\n") << r.err;
  EXPECT_EQ(r.status, 0);
  unlink(f.c_str());
}

// Statements on standard input run as they arrive: the output of each
// appears before the next is written.
TEST(ShellScripts, StandardInputRunsEachStatementAsItArrives) {
  Child c({});
  for (int i = 1; i <= 3; ++i) {
    std::string n = std::to_string(i);
    ASSERT_TRUE(c.send("SELECT " + n + " AS n" + n + ";\n"));
    ASSERT_TRUE(c.expect("n" + n + "\r\n" + n + "\r\n")) << c.seen();
  }
  ASSERT_TRUE(c.send(".mode json\nSELECT 4 AS n4;\n"));
  ASSERT_TRUE(c.expect("{\"n4\":4}")) << c.seen();
  c.close_input();
  auto e = c.wait(kMaxRssKib);
  EXPECT_EQ(e.status, 0);
  EXPECT_EQ(e.err, "");
}

TEST(ShellNames, ServicePortsAreWholeNumbersInRange) {
  std::map<std::pair<int, std::string>, std::string> names;
  for (const char* line : {"http 80/tcp www", "bad 81abc/tcp", "neg -1/udp", "big 65536/tcp", "hex 0x52/tcp", "plus +83/tcp",
                           "last 65535/udp # c"})
    if (auto e = kernel::parse_service_line(line)) names.emplace(std::make_pair(int{e->port}, e->protocol), e->name);
  std::map<std::pair<int, std::string>, std::string> want = {{{80, "tcp"}, "http"}, {{65535, "udp"}, "last"}};
  EXPECT_EQ(names, want);
  // A number that is no port has no name (not the name of its low 32 bits).
  EXPECT_EQ(netsql("\"SELECT service_name(4294967376, 'tcp') AS p\"").out, "p\r\n4294967376\r\n");
}

// netstat's output as a set of rows of whitespace-separated tokens, from
// the first line that starts with `header` on (titles dropped).
std::multiset<std::string> rows_after(const std::string& text, const std::string& header) {
  std::multiset<std::string> rows;
  std::istringstream in(text);
  std::string line;
  bool on = false;
  while (std::getline(in, line)) {
    if (!on) {
      on = line.rfind(header, 0) == 0;
      continue;
    }
    if (line.rfind("Active", 0) == 0 || line.rfind("---", 0) == 0) continue;
    std::istringstream words(line);
    std::string w, norm;
    while (words >> w) norm += w + " ";
    if (!norm.empty()) rows.insert(norm);
  }
  return rows;
}

using NetstatFrontEnd = NetnsTest;

TEST_F(NetstatFrontEnd, SameRowsAsNetstat) {
  // IPv6 off on the veths, so no router solicitation moves their counters
  // between our run and netstat's.
  sh("ip link add ns0 type veth peer name ns1 && sysctl -qw net.ipv6.conf.ns0.disable_ipv6=1 && "
     "sysctl -qw net.ipv6.conf.ns1.disable_ipv6=1 && ip link set ns0 up && ip link set ns1 up && "
     "ip addr add 10.5.0.1/24 dev ns0 && ip route add 10.6.0.0/16 via 10.5.0.2 && ip route add 10.7.0.0/16 dev ns0");
  int l4 = tcp_listener("127.0.0.1", 0), l6 = tcp_listener("::", 0);
  int c = tcp_connect("127.0.0.1", local_port(l4)), s = tcp_accept(l4);
  ASSERT_EQ(write(c, "12345", 5), 5);
  int u1 = udp_socket("127.0.0.1", 0), u2 = udp_socket("::1", 0, "::1", 53);
  int r4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP), r6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  {
    Db db;  // the connection is established and its 5 bytes queued at the server
    ASSERT_TRUE(wait_until([&] { return db.scalar("SELECT count(*) FROM tcp_sockets WHERE recv_q = 5") == 1; }));
  }
  struct Case {
    std::string flags, header;
  };
  for (const Case& k : {Case{"-tan", "Proto"}, Case{"-tln", "Proto"}, Case{"-tn", "Proto"}, Case{"-uan", "Proto"},
                        Case{"-wan", "Proto"}, Case{"-rn", "Destination"}, Case{"-i", "Iface"}, Case{"-gn", "Interface"}, Case{"-g", "Interface"}}) {
    auto theirs = rows_after(run("netstat " + k.flags + " 2>/dev/null"), k.header);
    auto ours = netsql("netstat " + k.flags);
    EXPECT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(rows_after(ours.out, k.header), theirs) << "netstat " << k.flags << "\n" << ours.out;
    EXPECT_FALSE(theirs.empty()) << k.flags;
  }
  auto sql = netsql("netstat -tlnp --sql");
  EXPECT_NE(sql.out.find("FROM tcp_sockets WHERE state = 'LISTEN'"), std::string::npos) << sql.out;
  EXPECT_EQ(netsql("-m csv --no-header \"" + std::string("SELECT count(*) FROM tcp_sockets WHERE state = 'LISTEN'") + "\"").out,
            "2\r\n");
  for (int fd : {l4, l6, c, s, u1, u2, r4, r6}) close(fd);
}

// The sections a netstat output shows, in order, by their titles
// (statistics by its "Proto:" headings).
std::vector<std::string> sections_of(const std::string& text) {
  std::vector<std::string> out;
  auto add = [&](const char* s) {
    if (out.empty() || out.back() != s) out.push_back(s);
  };
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Kernel IP routing table", 0) == 0 || line.rfind("Kernel IPv6 routing table", 0) == 0) add("routes");
    else if (line.rfind("Kernel Interface table", 0) == 0) add("interfaces");
    else if (line.rfind("IPv6/IPv4 Group Memberships", 0) == 0) add("groups");
    else if (line.rfind("Active Internet connections", 0) == 0) add("inet");
    else if (line.rfind("Active UNIX domain sockets", 0) == 0) add("unix");
    else if (!line.empty() && line.back() == ':' && line.find(' ') == std::string::npos) add("statistics");
  }
  return out;
}

size_t rule_lines(const std::string& text) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find("---------------", at)) != std::string::npos; at += 15) ++n;
  return n;
}

// More than one of -r, -i, -s, -g (alone or with socket options): the
// same sections as netstat prints, or a usage error where netstat gives one.
TEST_F(NetstatFrontEnd, ModeOptionsChooseWhatNetstatChooses) {
  size_t refused = 0;
  for (std::string f : {"-r -s", "-s -r", "-r -i", "-i -r", "-i -s", "-s -i", "-rig", "-r -g", "-g -r", "-i -g", "-g -i",
                        "-s -g", "-g -s", "-r -t", "-i -u", "-g", "-g -t", "-gx", "-g -4", "-4 -x"}) {
    int rc = system(("netstat " + f + " >/dev/null 2>&1").c_str());
    int their_status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    std::string theirs = run("netstat " + f + " 2>/dev/null");
    auto ours = netsql("netstat " + f);
    if (their_status == 3) {  // netstat's usage error
      ++refused;
      EXPECT_EQ(ours.status, 2) << f;
      EXPECT_EQ(ours.out, "") << f;
      EXPECT_EQ(first_line(ours.err), "netsql netstat: -r, -i, -s and -M exclude each other") << f;
      EXPECT_NE(ours.err.find("usage: netsql netstat"), std::string::npos) << f;
      continue;
    }
    EXPECT_EQ(their_status, 0) << f;
    EXPECT_EQ(ours.status, 0) << f << ": " << ours.err;
    EXPECT_FALSE(sections_of(theirs).empty()) << f;
    EXPECT_EQ(sections_of(ours.out), sections_of(theirs)) << "netstat " << f << "\n" << ours.out;
    EXPECT_EQ(rule_lines(ours.out), rule_lines(theirs)) << "netstat " << f << "\n" << ours.out;
  }
  EXPECT_EQ(refused, 7u);  // the pairs of -r, -i and -s, both ways, and -rig
}

TEST(Watch, SecondsMustBeANumberInRange) {
  const std::string want = "netsql: option '--watch' needs seconds: a number from 0.001 to 31622400";
  for (std::string v : {"nan", "2abc", "0", "0.0009", "1e-300", "-1", "1e308", "inf", "0x10", "''", "31622401", "' 2'"}) {
    auto r = netsql("--watch " + v + " \"SELECT 1\"");
    EXPECT_EQ(r.status, 2) << v;
    EXPECT_EQ(first_line(r.err), want) << v;
    EXPECT_NE(r.err.find("usage: netsql"), std::string::npos) << v;
    EXPECT_EQ(r.out, "") << v;
  }
  auto r = netsql("--watch");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(first_line(r.err), "netsql: option '--watch' needs a value");
}

TEST(ShellErrors, StoredViewOverANetsqlTableSaysToUseATempView) {
  std::string db = "/tmp/netsql-view-" + std::to_string(getpid()) + ".sqlite";
  unlink(db.c_str());
  auto r = netsql("--db " + db + " \"CREATE VIEW v AS SELECT count(*) AS n FROM tcp_sockets; SELECT n FROM v\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Error: unsafe use of virtual table \"tcp_sockets\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("use CREATE TEMP VIEW"), std::string::npos) << r.err;
  r = netsql("--db " + db + " \"CREATE TEMP VIEW t AS SELECT count(*) AS n FROM tcp_sockets; SELECT n >= 0 AS ok FROM t\"");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\r\n1\r\n");
  unlink(db.c_str());
}

// The first name /etc/services or /etc/hosts gives `key` (awk, an oracle
// independent of the extension), else `key` itself.
std::string name_in(const char* file, int key_field, const std::string& key, const std::string& shown) {
  std::string out = run(std::string("awk '!/^#/ && $") + std::to_string(key_field) + " == \"" + key + "\" {print $" +
                        (key_field == 2 ? "1" : "2") + "; exit}' " + file);
  return out.empty() ? shown : out.substr(0, out.size() - 1);
}

TEST_F(NetstatFrontEnd, WithoutNNamesComeFromTheFilesAndPortZeroIsAStar) {
  int l = tcp_listener("127.0.0.1", 22);
  auto r = netsql("netstat -tl");
  EXPECT_EQ(r.status, 0) << r.err;
  std::string local = name_in("/etc/hosts", 1, "127.0.0.1", "127.0.0.1") + ":" + name_in("/etc/services", 2, "22/tcp", "22");
  std::string remote = name_in("/etc/hosts", 1, "0.0.0.0", "0.0.0.0") + ":*";
  EXPECT_EQ(rows_after(r.out, "Proto"), (std::multiset<std::string>{"tcp 0 0 " + local + " " + remote + " LISTEN "})) << r.out;
  close(l);
}

// Every format writes rows as they are stepped (table after sizing its
// columns by the first 1,000): two million rows pass through the shell in
// the memory of a few, where collecting them took hundreds of MiB.
// 600,000 rows of 400 bytes: 240 MB of output, which a shell that
// collected the result would hold, in a quarter of the steps millions of
// short rows would take. Under ASan (its own heap and quarantine make RSS
// no measure of ours, and every byte written is checked) a smaller result
// runs the same paths; the bound is checked in the plain build.
constexpr bool kSanitized = kSanitizerMemoryFactor != 1;
constexpr long kBigRows = kSanitized ? 20000 : 600000;

// Writes the big result in each format (with the newlines it must write
// for kBigRows rows of two columns) and checks the shell's peak memory.
void expect_streams(std::initializer_list<std::pair<const char*, long>> formats) {
  constexpr long kBoundKib = 64 * 1024;
  const std::string sql = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < " +
                          std::to_string(kBigRows) +
                          "), w(s) AS (SELECT printf('%.*c', 400, 'x')) SELECT i, s AS t FROM c, w";
  for (const auto& [format, lines] : formats) {
    Child c({"-m", format, sql});
    c.count_output_only();
    auto e = c.wait(kSanitized ? 4L * 1024 * 1024 : kBoundKib, {}, 600);
    EXPECT_FALSE(e.killed) << format << ": " << e.max_rss_kib << " KiB";
    EXPECT_EQ(e.status, 0) << format << ": " << e.err;
    EXPECT_EQ(e.lines, lines) << format;
    if (!kSanitized) {
      EXPECT_LT(e.max_rss_kib, kBoundKib) << format;
    }
  }
}

TEST(ShellOutput, EveryFormatStreamsABigResultInBoundedMemory) {
  constexpr long n = kBigRows;
  expect_streams({{"csv", n + 1}, {"tsv", n + 1}, {"json", n + 2}, {"jsonl", n}, {"line", 3 * n - 1}, {"markdown", n + 2},
                  {"table", n + 2}});
}

TEST(ShellOutput, EverySqlite3ModeStreamsABigResultInBoundedMemory) {
  constexpr long n = kBigRows;
  expect_streams({{"box", n + 4}, {"column", n + 2}, {"list", n + 1}, {"quote", n + 1}, {"insert", n}, {"html", 3 * n + 3}});
}

// The table format sizes its columns by the header and the first 1,000
// rows; a wider cell after them is written whole, past its column's edge,
// and later rows keep the widths.
TEST(ShellOutput, TableSizesColumnsByTheFirstThousandRows) {
  auto r = netsql("-m table \"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1002) "
                  "SELECT i AS n, CASE i WHEN 1001 THEN 'much wider' ELSE 'x' END AS s, 'end' AS e FROM c\"");
  EXPECT_EQ(r.status, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1004u);
  EXPECT_EQ(lines[0], "n    | s | e");
  EXPECT_EQ(lines[1], "-----+---+----");
  EXPECT_EQ(lines[2], "   1 | x | end");
  EXPECT_EQ(lines[1001], "1000 | x | end");
  EXPECT_EQ(lines[1002], "1001 | much wider | end");
  EXPECT_EQ(lines[1003], "1002 | x | end");
}

// A statement that fails after some rows keeps the rows written before the
// error (stderr says what failed, the exit status is 1); a JSON array is
// left open so that no parser takes the partial result for a whole one. A
// statement that fails before its first row writes nothing.
TEST(ShellOutput, AnErrorAfterSomeRowsKeepsThemAndLeavesJsonOpen) {
  const std::string q = "\"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5) "
                        "SELECT CASE WHEN i = 3 THEN abs(-9223372036854775807 - 1) ELSE i END AS x FROM c\"";
  const std::pair<const char*, const char*> kWant[] = {
      {"csv", "x\r\n1\r\n2\r\n"},     {"json", "[\n{\"x\":1},\n{\"x\":2}"},  {"jsonl", "{\"x\":1}\n{\"x\":2}\n"},
      {"table", "x\n-\n1\n2\n"},        {"line", "x = 1\n\nx = 2\n"},          {"markdown", "| x |\n| --- |\n| 1 |\n| 2 |\n"},
  };
  for (const auto& [format, want] : kWant) {
    auto r = netsql(std::string("-m ") + format + " " + q);
    EXPECT_EQ(r.out, want) << format;
    EXPECT_EQ(r.err, "Error: integer overflow\n") << format;
    EXPECT_EQ(r.status, 1) << format;
  }
  auto r = netsql("-m json \"SELECT abs(-9223372036854775807 - 1) AS x\"");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.status, 1);
}

// A BLOB is written as hex(x) writes it, in every format (a JSON string
// in json): no raw bytes, so the output stays valid text and valid UTF-8.
TEST(ShellOutput, BlobsAreWrittenAsHexInEveryFormat) {
  const std::string q = "\"SELECT x'00ff22' AS b, zeroblob(0) AS e\"";
  const std::pair<const char*, const char*> kWant[] = {
      {"csv", "b,e\r\n00FF22,\r\n"},
      {"tsv", "b\te\n00FF22\t\n"},
      {"json", "[\n{\"b\":\"00FF22\",\"e\":\"\"}\n]\n"},
      {"jsonl", "{\"b\":\"00FF22\",\"e\":\"\"}\n"},
      {"table", "b      | e\n-------+--\n00FF22 |\n"},
      {"line", "b = 00FF22\ne = \n"},
      {"markdown", "| b | e |\n| --- | --- |\n| 00FF22 |  |\n"},
  };
  for (const auto& [format, want] : kWant) {
    auto r = netsql(std::string("-m ") + format + " " + q);
    EXPECT_EQ(r.out, want) << format;
    EXPECT_EQ(r.status, 0) << format << ": " << r.err;
  }
  EXPECT_EQ(json::parse(netsql("-m json \"SELECT randomblob(64) AS b\"").out)[0]["b"].get<std::string>().size(), 128u);
}

// TSV writes tab, newline, carriage return and backslash as \t \n \r \\,
// so every row is one line and every field one column.
TEST(ShellOutput, TsvEscapesTabNewlineReturnAndBackslash) {
  EXPECT_EQ(netsql("-m tsv \"SELECT 'a' || char(9) || 'b\\c' || char(13) || char(10) AS [t" "\t" "x]\"").out,
            "t\\tx\na\\tb\\\\c\\r\\n\n");
}

// A session's connection is only used by the thread that opened it (other
// threads just interrupt it), so it is opened without the connection mutex
// that every sqlite3_column_* call would otherwise take; .open's too.
TEST(ShellSession, ConnectionsSkipTheConnectionMutex) {
  shell::Session s(":memory:");
  EXPECT_EQ(sqlite3_db_mutex(s.db()), nullptr);
  s.open(":memory:");
  EXPECT_EQ(sqlite3_db_mutex(s.db()), nullptr);
}

}  // namespace
}  // namespace netsql::test
