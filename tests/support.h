// Test support: private network namespaces, the built extension loaded into
// a real SQLite connection, sockets and command helpers.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace netsql::test {

// Memory bounds in tests are about growth (bounded vs. proportional to the
// input), not exact sizes; under AddressSanitizer every allocation carries
// shadow memory and a quarantine, so bounds are scaled by this factor.
#ifdef NETSQL_SANITIZE
inline constexpr long kSanitizerMemoryFactor = 4;
#else
inline constexpr long kSanitizerMemoryFactor = 1;
#endif

// Each test using this fixture runs in a fresh network namespace (with lo
// up), so the tables must show exactly what the test created. Skips, saying
// why, when the process may not create namespaces.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;  // deletes the peer namespace, if one was added

  // Adds a named namespace `<prefix><pid>` (ip netns add) beside the
  // test's own, deleted after the test (the other end of a veth, a second
  // host); sets and returns peer_.
  const std::string& add_peer(const std::string& prefix);
  // `cmd` as run inside the peer namespace (ip netns exec).
  std::string in_peer(const std::string& cmd) const { return "ip netns exec " + peer_ + " " + cmd; }

  std::string peer_;
};

// Moves the calling thread into a new network namespace with lo up.
// Returns an error text, empty on success.
std::string enter_private_netns();

using Cell = std::optional<std::string>;  // NULL is nullopt
using Row = std::vector<Cell>;

// A connection with the built libnetsql.so loaded through
// sqlite3_load_extension, exactly as a user's program would.
class Db {
 public:
  Db();
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Rows of the query; fails the test on error.
  std::vector<Row> rows(const std::string& sql);
  // The single integer result of a query.
  long long scalar(const std::string& sql);
  // The error message the query ends with ("" if it succeeded).
  std::string error(const std::string& sql);
  // Column type names (INTEGER, TEXT, NULL, ...) of the first row.
  std::vector<std::string> types(const std::string& sql);
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Runs each query in a child process as user nobody (65534), with a copy
// of the extension nobody can read, after closing `close_fds` and calling
// `as_nobody` (when given) once the child is nobody; returns, per query,
// its first value or "error: <message>", each followed by ';'.
std::string run_as_nobody(const std::vector<std::string>& queries, const std::vector<int>& close_fds = {},
                          void (*as_nobody)() = nullptr);

// Polls `done` until it holds or `seconds` pass; returns whether it held.
// Tests wait for conditions with this, never for a fixed time.
bool wait_until(const std::function<bool()>& done, double seconds = 60);

// Runs a shell command, returns its standard output.
std::string run(const std::string& cmd);
// Runs a shell command; fails the test unless it exits 0.
void sh(const std::string& cmd);

// What a command wrote and its exit status (-1: it did not exit).
struct Ran {
  std::string out, err;
  int status;
  long peak_kb = 0;  // the largest resident set of the command (and the sh running it)
};
// Runs `cmd` (a shell command line) with `input` on its standard input,
// under a 60 s deadline (a hang is status 124, not a hung test).
Ran run_captured(const std::string& cmd, const std::string& input = "");
#ifdef NETSQL_SHELL_PATH
// The netsql shell under test with `args` (shell words), as run_captured.
inline Ran netsql(const std::string& args, const std::string& input = "") {
  return run_captured(std::string(NETSQL_SHELL_PATH) + " " + args, input);
}
#endif
// Whether a stock sqlite3 shell is there to compare with.
bool have_sqlite3();
// The text up to its first newline.
std::string first_line(const std::string& text);
// A new directory under /tmp, removed with all it holds when this ends.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  std::string path;
};
// A new file holding `text`; the caller unlinks it.
std::string temp_file(const std::string& text);
// The whole content of a file ("" when it cannot be read).
std::string slurp(const std::string& path);

// Socket helpers; each returns an fd the test owns (closed by the caller).
int tcp_listener(const std::string& addr, int port, int backlog = 16);
int tcp_connect(const std::string& addr, int port);
int tcp_accept(int listener);
int udp_socket(const std::string& addr, int port, const std::string& peer = "", int peer_port = 0);
int local_port(int fd);
unsigned long inode_of(int fd);
int open_fd_count();
// A connection to `port` that sends `bytes` bytes, read in full by the
// server end, then closed at both ends; returns the client's local port.
int exchange(int listener, const std::string& addr, int port, size_t bytes);

// The group masks of the calling thread's namespace's sock_diag sockets
// that joined a multicast group (/proc/net/netlink: protocol 4, Groups):
// who listens for destroyed sockets.
std::vector<unsigned long> joined_sock_diag_groups();
inline bool subscribed() { return !joined_sock_diag_groups().empty(); }

// Runs `f` on a thread that entered the namespace bound at
// /run/netns/`name` (`ip netns add`), and waits for it.
void in_named_netns(const std::string& name, const std::function<void()>& f);

// (state, local address, local port, remote address, remote port)
using Tuple = std::tuple<std::string, std::string, int, std::string, int>;
// The tuples `ss -H -n <flags>` prints, with ss's state names and address
// forms mapped to ours.
std::set<Tuple> ss_tuples(const std::string& flags);

// `columns` of netsql_stats for `table`: what the thread's most recent scan
// of it asked the kernel for and got back.
Row last_scan(Db& db, const std::string& columns, const std::string& table = "tcp_sockets");

// A forked child that runs `body`, tells the parent it is ready, then
// waits to be killed (by the destructor). `after_fork` runs in the parent
// before it waits for the child to be ready.
struct Child {
  pid_t pid = -1;
  explicit Child(const std::function<void()>& body, const std::function<void()>& after_fork = [] {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
};

// A process that, until destroyed, forks children that each open 64
// sockets and exit at once: processes vanishing under a /proc or BPF scan.
// Fork it before the sockets a test watches, so its children hold none.
struct Churner {
  pid_t pid = -1;
  Churner();
  ~Churner();
  Churner(const Churner&) = delete;
  Churner& operator=(const Churner&) = delete;
  // Children that have exited so far.
  long count();

 private:
  int exits_ = -1;  // a byte per child reaped
  long reaped_ = 0;
};

}  // namespace netsql::test
