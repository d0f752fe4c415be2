// closed_sockets against connections the test opens and closes in a private
// namespace while another thread reads the table.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "kernel/sock_times.h"
#include "support.h"

namespace netsql::test {
namespace {

using ClosedSockets = NetnsTest;

std::string str(long long v) { return std::to_string(v); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}


// A handler that only counts: the signal cuts a wait short (EINTR).
std::atomic<int> g_sigusr1{0};
void install_sigusr1() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_sigusr1.fetch_add(1); };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
}

// Runs one query on a thread of its own (with its own connection), in the
// namespace of the thread that starts it.
class Reader {
 public:
  explicit Reader(std::string sql)
      : thread_((install_sigusr1(), [this, sql = std::move(sql)] {
          native_ = pthread_self();
          started_ = true;
          Db db;
          {
            std::lock_guard lock(db_m_);
            db_ = db.handle();
          }
          sqlite3_stmt* st = nullptr;
          int rc = sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st, nullptr);
          while (rc == SQLITE_OK || rc == SQLITE_ROW) {
            if ((rc = sqlite3_step(st)) != SQLITE_ROW) break;
            Row r;
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
              const auto* t = sqlite3_column_text(st, i);
              r.push_back(t ? Cell(reinterpret_cast<const char*>(t)) : std::nullopt);
            }
            rows_.push_back(r);
          }
          if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db.handle());
          sqlite3_finalize(st);
          {
            std::lock_guard lock(db_m_);
            db_ = nullptr;
          }
          done_ = true;
        })) {}
  ~Reader() { thread_.join(); }
  bool done() const { return done_; }
  // Waits (with a deadline) for the query to end; interrupts it if it does not.
  bool finish() {
    bool ended = wait_until([this] { return done(); }, 60);
    if (!ended) interrupt();
    thread_.join();
    thread_ = std::thread([] {});
    return ended;
  }
  // Sends the reading thread a signal (SIGUSR1, with a handler that does
  // nothing), as Ctrl-C does to a shell.
  void interrupt() {
    wait_until([this] { return started_.load(); });
    pthread_kill(native_, SIGUSR1);
  }
  // Calls sqlite3_interrupt on the reading connection (while it is open),
  // as the sqlite3 shell does on Ctrl-C.
  void interrupt_sql() {
    std::lock_guard lock(db_m_);
    if (db_) sqlite3_interrupt(db_);
  }
  const std::vector<Row>& rows() const { return rows_; }
  const std::string& error() const { return error_; }

 private:
  std::vector<Row> rows_;
  std::string error_;
  std::atomic<bool> done_{false}, started_{false};
  pthread_t native_{};
  std::mutex db_m_;
  sqlite3* db_ = nullptr;  // the reading connection while it is open
  std::thread thread_;
};

TEST_F(ClosedSockets, ReturnsExactlyTheConnectionsClosedWhileListeningWithTheirBytes) {
  int l4 = tcp_listener("127.0.0.1", 0);
  int l6 = tcp_listener("::1", 0);
  int p4 = local_port(l4), p6 = local_port(l6);
  int still_open = tcp_connect("127.0.0.1", p4);
  int still_open_server = tcp_accept(l4);
  const int kEach = 3;
  Reader reader("SELECT family, protocol, local_port, remote_port, state, bytes_sent, closed_time, overruns "
                "FROM closed_sockets(60000) WHERE remote_port IN (" + str(p4) + ", " + str(p6) + ") LIMIT " +
                str(2 * kEach));
  ASSERT_TRUE(wait_until(subscribed));
  int64_t t0 = now_ms();
  std::set<std::tuple<std::string, int, int, long>> expected;
  for (int i = 0; i < kEach; ++i) {
    size_t b4 = 1000 + 17 * static_cast<size_t>(i), b6 = 70000 + 5 * static_cast<size_t>(i);
    expected.insert({"inet", exchange(l4, "127.0.0.1", p4, b4), p4, static_cast<long>(b4)});
    expected.insert({"inet6", exchange(l6, "::1", p6, b6), p6, static_cast<long>(b6)});
  }
  ASSERT_TRUE(reader.finish()) << "no rows within a minute";
  int64_t t1 = now_ms();
  ASSERT_EQ(reader.error(), "");
  std::set<std::tuple<std::string, int, int, long>> got;
  for (const Row& r : reader.rows()) {
    got.insert({*r[0], std::stoi(*r[2]), std::stoi(*r[3]), std::stol(*r[5])});
    EXPECT_EQ(*r[1], "tcp");
    EXPECT_EQ(*r[4], "CLOSE");
    EXPECT_GE(std::stoll(*r[6]), t0);
    EXPECT_LE(std::stoll(*r[6]), t1);
    EXPECT_EQ(*r[7], "0");
    EXPECT_NE(std::stoi(*r[2]), local_port(still_open)) << "a connection still open was reported closed";
  }
  EXPECT_EQ(reader.rows().size(), static_cast<size_t>(2 * kEach));
  EXPECT_EQ(got, expected);
  close(still_open);
  close(still_open_server);
  close(l4);
  close(l6);
}

TEST_F(ClosedSockets, LimitEndsTheWaitAtTheLastRowWanted) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  Reader reader("SELECT local_port FROM closed_sockets(86400000) WHERE remote_port = " + str(p) + " LIMIT 2");
  ASSERT_TRUE(wait_until(subscribed));
  exchange(l, "127.0.0.1", p, 10);
  exchange(l, "127.0.0.1", p, 10);
  // A day's wait: the query can only have ended because LIMIT was met.
  ASSERT_TRUE(reader.finish()) << "the query kept waiting after its LIMIT";
  EXPECT_EQ(reader.error(), "");
  EXPECT_EQ(reader.rows().size(), 2u);
  close(l);
}

// Ranges and in_subnet() on the port and address columns are left to
// SQLite (the cursor checks = and IN lists): the rows are right and no
// constraint is claimed that nobody applies (a Debug build's check).
TEST_F(ClosedSockets, RangesAndSubnetsAreFilteredBySqlite) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  Reader reader("SELECT local_port FROM closed_sockets(60000) WHERE remote_port BETWEEN " + str(p) + " AND " + str(p) +
                " AND local_port > 0 AND in_subnet(local_address, '127.0.0.0/8') AND NOT in_subnet(remote_address, "
                "'10.0.0.0/8') LIMIT 2");
  ASSERT_TRUE(wait_until(subscribed));
  std::set<std::string> expected;
  for (int i = 0; i < 2; ++i) expected.insert(str(exchange(l, "127.0.0.1", p, 10)));
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.error(), "");
  std::set<std::string> got;
  for (const Row& r : reader.rows()) got.insert(*r[0]);
  EXPECT_EQ(got, expected);
  close(l);
}

TEST_F(ClosedSockets, ProtocolAndFamilyChooseTheGroupsJoined) {
  Reader reader(
      "SELECT family, protocol, local_address, local_port, state, send_q, bytes_sent FROM closed_sockets(60000) "
      "WHERE protocol = 'udp' AND family = 'inet6' LIMIT 1");
  ASSERT_TRUE(wait_until(subscribed));
  // SKNLGRP_INET6_UDP_DESTROY (4) alone: bit 1 << 3.
  EXPECT_EQ(joined_sock_diag_groups(), std::vector<unsigned long>{8});
  int l = tcp_listener("127.0.0.1", 0);
  exchange(l, "127.0.0.1", local_port(l), 10);  // TCP: not listened for
  close(l);
  int u = udp_socket("::1", 0);
  int up = local_port(u);
  close(u);
  ASSERT_TRUE(reader.finish());
  ASSERT_EQ(reader.error(), "");
  ASSERT_EQ(reader.rows().size(), 1u);
  EXPECT_EQ(reader.rows()[0], (Row{"inet6", "udp", "::1", str(up), "UNCONN", std::nullopt, std::nullopt}));
}

// wait_ms -1 listens until interrupted, and sqlite3_interrupt (Ctrl-C in
// the shells) ends a finite wait too, on every SQLite netsql loads into
// (before 3.41 there is no sqlite3_is_interrupted to ask).
// A scan on port 9 (LIMIT 1) that the interrupt did not end ends at a
// close there, so a failing test does not hang.
void end_by_a_close_on_port_9(Reader& reader) {
  wait_until([&] {
    close(udp_socket("127.0.0.1", 9));
    return reader.done();
  });
}

TEST_F(ClosedSockets, SqliteInterruptEndsTheWait) {
  for (const char* wait : {"-1", "60000"}) {
    Reader reader(std::string("SELECT * FROM closed_sockets(") + wait + ") WHERE protocol = 'udp' AND local_port = 9 LIMIT 1");
    ASSERT_TRUE(wait_until(subscribed)) << wait;  // inside the scan: the interrupt is not lost
    reader.interrupt_sql();
    bool ended = wait_until([&] { return reader.done(); }, 30);
    if (!ended) end_by_a_close_on_port_9(reader);
    reader.finish();
    EXPECT_TRUE(ended) << "wait " << wait << " not ended by sqlite3_interrupt";
    EXPECT_NE(reader.error().find("interrupted"), std::string::npos) << wait << ": " << reader.error();
    EXPECT_TRUE(reader.rows().empty());
    ASSERT_TRUE(wait_until([] { return !subscribed(); }));
  }
}

// Also while announcements keep arriving that the scan skips (a port
// constraint): no wait times out then, and no row reaches SQLite's checks.
TEST_F(ClosedSockets, SqliteInterruptEndsTheWaitDuringAStreamOfSkippedCloses) {
  Reader reader("SELECT local_port FROM closed_sockets(-1) WHERE protocol = 'udp' AND local_port = 9 LIMIT 1");
  ASSERT_TRUE(wait_until(subscribed));
  reader.interrupt_sql();
  bool ended = wait_until([&] {
    for (int i = 0; i < 200; ++i) close(udp_socket("127.0.0.1", 0));
    return reader.done();
  }, 30);
  if (!ended) end_by_a_close_on_port_9(reader);
  reader.finish();
  EXPECT_TRUE(ended) << "the stream of closes kept the scan from seeing the interrupt";
  EXPECT_NE(reader.error().find("interrupted"), std::string::npos) << reader.error();
}

// A signal alone (EINTR on the wait) does not end a scan: the process the
// extension is loaded into may use signals for its own ends.
TEST_F(ClosedSockets, ASignalAloneDoesNotEndTheWait) {
  Reader reader("SELECT local_address FROM closed_sockets(-1) WHERE protocol = 'udp' LIMIT 1");
  ASSERT_TRUE(wait_until(subscribed));
  int before = g_sigusr1.load();
  reader.interrupt();  // SIGUSR1
  ASSERT_TRUE(wait_until([&] { return g_sigusr1.load() > before; }));  // handled: the wait saw EINTR
  close(udp_socket("127.0.0.1", 0));  // the row that ends the query, if it still listens
  ASSERT_TRUE(reader.finish());
  EXPECT_EQ(reader.error(), "");
  EXPECT_EQ(reader.rows(), (std::vector<Row>{{"127.0.0.1"}}));
}

// A statement reading closed_sockets leaves no statement of its own on the
// connection between rows (the interrupt probe of SQLite < 3.41 lives
// only within a check): a host that finalizes every statement it finds
// with sqlite3_next_stmt before closing finalizes ours, not a freed one.
TEST_F(ClosedSockets, NoHiddenStatementOutlivesAnInterruptCheck) {
  Db db;
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.handle(),
                               "SELECT local_port FROM closed_sockets(60000) WHERE protocol = 'udp' AND local_port = 9",
                               -1, &st, nullptr),
            SQLITE_OK);
  const std::string status = "/proc/self/task/" + std::to_string(gettid()) + "/status";
  auto sleeps = [&] {  // how often the stepping thread has waited
    std::ifstream in(status);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
    return -1L;
  };
  const long before = sleeps();
  std::thread closer([&] {
    // Past a few of the scan's 100 ms waits, each followed by a check:
    // then the row that ends the step.
    wait_until([&] { return subscribed() && sleeps() >= before + 4; }, 30);
    close(udp_socket("127.0.0.1", 9));
  });
  int rc = sqlite3_step(st);
  closer.join();
  ASSERT_EQ(rc, SQLITE_ROW) << sqlite3_errmsg(db.handle());
  int statements = 0;
  for (sqlite3_stmt* s = nullptr; (s = sqlite3_next_stmt(db.handle(), s));) ++statements;
  EXPECT_EQ(statements, 1);
  for (sqlite3_stmt* s; (s = sqlite3_next_stmt(db.handle(), nullptr));) sqlite3_finalize(s);  // as such a host does
}

TEST_F(ClosedSockets, WaitMsOutOfRangeIsAnError) {
  Db db;
  const std::string msg =
      "closed_sockets: wait_ms must be an integer from 0 to 86400000 (milliseconds), or -1 (until interrupted)";
  EXPECT_EQ(db.error("SELECT * FROM closed_sockets(-2)"), msg);
  EXPECT_EQ(db.error("SELECT * FROM closed_sockets(86400001)"), msg);
  EXPECT_EQ(db.error("SELECT * FROM closed_sockets WHERE wait_ms = 'soon'"), msg);
  EXPECT_EQ(db.error("SELECT * FROM closed_sockets WHERE wait_ms = 1.5"), msg);
  EXPECT_EQ(db.error("SELECT * FROM closed_sockets WHERE protocol = 'sctp'"),
            "closed_sockets: invalid protocol 'sctp' (expected 'tcp' or 'udp')");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM closed_sockets(0)"), 0);
}

// The kernel lets any user join the destroy groups (NL_CFG_F_NONROOT_RECV),
// as any user may read /proc/net/tcp: no privilege is needed.
TEST_F(ClosedSockets, UnprivilegedCallerSeesClosedSockets) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  std::string got;
  std::atomic<bool> done{false};
  std::thread child([&] {
    got = run_as_nobody({"SELECT local_port FROM closed_sockets(60000) WHERE remote_port = " + str(p) + " LIMIT 1"});
    done = true;
  });
  wait_until([&] { return subscribed() || done; });
  int port = done ? 0 : exchange(l, "127.0.0.1", p, 10);
  child.join();  // its wait ends within the minute at the latest
  EXPECT_EQ(got, str(port) + ";");
  close(l);
}

// Closes a socket with an RST (SO_LINGER 0): a TCP socket reaches CLOSE
// within close() itself.
void abort_close(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

std::optional<int64_t> num(const Cell& c) {
  if (!c) return std::nullopt;
  return std::stoll(*c);
}

// opened_time and duration_ms bracket what the test saw around its own
// connects and closes: A opens, B opens and closes, A closes, so A lived
// longer. A connection opened before the scan, and UDP, have neither.
TEST_F(ClosedSockets, OpenedTimeAndDurationComeFromTheTrackerForConnectionsOpenedDuringTheScan) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  int u_peer = udp_socket("127.0.0.1", 0);
  int pu = local_port(u_peer);
  int before = tcp_connect("127.0.0.1", p);
  int before_server = tcp_accept(l);
  int before_port = local_port(before);
  // Every socket the test closes while the scan listens: A, B and the one
  // opened before, each with its accepted side, and a UDP one. (An aborted
  // socket is announced with its peer cleared: the rows are told apart by
  // their local ports.)
  Reader reader("SELECT protocol, local_port, opened_time, duration_ms, closed_time FROM closed_sockets(60000) "
                "LIMIT 7");
  ASSERT_TRUE(wait_until(subscribed));
  struct Life { int port; int64_t opening[2], closing[2]; };
  auto open_one = [&](Life& life, int& server) {
    life.opening[0] = now_ms();
    int fd = tcp_connect("127.0.0.1", p);
    server = tcp_accept(l);
    life.opening[1] = now_ms();
    life.port = local_port(fd);
    return fd;
  };
  auto close_both = [&](Life& life, int fd, int server) {
    life.closing[0] = now_ms();
    abort_close(fd);
    close(server);
    life.closing[1] = now_ms();
  };
  Life a{}, b{};
  int a_server, b_server;
  int a_fd = open_one(a, a_server);
  int b_fd = open_one(b, b_server);
  close_both(b, b_fd, b_server);
  close(before);  // a FIN: its state changes (FIN_WAIT1, ...) are not an opening
  close(before_server);
  close_both(a, a_fd, a_server);
  int u = udp_socket("127.0.0.1", 0, "127.0.0.1", pu);
  int u_port = local_port(u);
  close(u);
  ASSERT_TRUE(reader.finish());
  ASSERT_EQ(reader.error(), "");
  ASSERT_EQ(reader.rows().size(), 7u);
  std::map<int, Row> by_port;
  for (const Row& r : reader.rows()) by_port[std::stoi(*r[1])] = r;
  for (const Life* life : {&a, &b}) {
    SCOPED_TRACE("connection on port " + str(life->port));
    const Row& r = by_port.at(life->port);
    auto opened = num(r[2]), duration = num(r[3]), closed = num(r[4]);
    ASSERT_TRUE(opened && duration);
    // Whole milliseconds of the kernel's times (floored), converted with
    // the clocks' offset read apart from the test's: one ms either way.
    EXPECT_GE(*opened, life->opening[0] - 1);
    EXPECT_LE(*opened, life->opening[1] + 1);
    EXPECT_GE(*opened + *duration, life->closing[0] - 1);
    EXPECT_LE(*opened + *duration, life->closing[1] + 1);
    // The announcement arrives after the close the duration ends at.
    EXPECT_LE(*opened + *duration, *closed + 1);
  }
  EXPECT_GE(*num(by_port.at(a.port)[3]), *num(by_port.at(b.port)[3]));
  EXPECT_LE(*num(by_port.at(a.port)[2]), *num(by_port.at(b.port)[2]));
  // The accepted sides (all on the listener's port): A's and B's opened
  // while their connections did, the one accepted before the scan unknown.
  int accepted_known = 0, accepted_unknown = 0;
  for (const Row& r : reader.rows()) {
    if (std::stoi(*r[1]) != p) continue;
    if (!r[2]) {
      ++accepted_unknown;
      continue;
    }
    ++accepted_known;
    EXPECT_GE(*num(r[2]), a.opening[0] - 1);
    EXPECT_LE(*num(r[2]), b.opening[1] + 1);
    ASSERT_TRUE(num(r[3]));
    EXPECT_LE(*num(r[2]) + *num(r[3]), a.closing[1] + 1);
  }
  EXPECT_EQ(accepted_known, 2);
  EXPECT_EQ(accepted_unknown, 1);
  // Opened before the scan (the tracker was loaded for it), and UDP: unknown.
  for (int port : {before_port, u_port}) {
    const Row& r = by_port.at(port);
    EXPECT_EQ(r[0], port == u_port ? "udp" : "tcp");
    EXPECT_EQ(r[2], std::nullopt) << port;
    EXPECT_EQ(r[3], std::nullopt) << port;
    EXPECT_NE(r[4], std::nullopt) << port;
  }
  close(u_peer);
  close(l);
}

// The tracker's take, below the table: 150 sockets (through the ring)
// mixed with cookies no socket has (looked for in the map, in three bpf()
// batches), each answered in its own place; the times are gone once taken
// by the only hold, and stay while another hold shares the tracker.
TEST_F(ClosedSockets, TheTrackerTakesEachSocketsTimesInPlaceAndDeletesThemOnlyAsTheSoleHold) {
  auto hold = std::make_unique<kernel::SockTimesHold>();
  if (!hold->failure().empty()) GTEST_SKIP() << "no BPF tracker here: " << hold->failure();
  int l = tcp_listener("127.0.0.1", 0, 256);
  const int p = local_port(l);
  auto round = [&](int n, const char* what) {
    SCOPED_TRACE(what);
    std::vector<uint64_t> cookies;
    std::vector<std::pair<int64_t, int64_t>> opening;  // unix ns before and after each connect
    auto ns = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    for (int i = 0; i < n; ++i) {
      int64_t t0 = ns();
      int fd = tcp_connect("127.0.0.1", p);
      int64_t t1 = ns();
      uint64_t cookie = 0;
      socklen_t len = sizeof cookie;
      EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
      close(tcp_accept(l));
      close(fd);
      cookies.push_back(cookie);
      opening.emplace_back(t0, t1);
      cookies.push_back(uint64_t{1} << 63 | static_cast<uint64_t>(i));  // no socket's
    }
    std::vector<std::optional<kernel::SockTimes>> times(cookies.size());
    const uint64_t ring_before = hold->ring_records();
    hold->take(cookies, times);
    // Both ends of each connection reached CLOSE: their times came through
    // the ring (with those of any other TCP socket closed meanwhile).
    EXPECT_GE(hold->ring_records() - ring_before, 2 * static_cast<uint64_t>(n));
    for (int i = 0; i < n; ++i) {
      const auto& t = times[2 * static_cast<size_t>(i)];
      EXPECT_TRUE(t) << "socket " << i;
      if (!t) continue;
      // The clocks' offset is read apart from the test's readings: 1 ms either way.
      EXPECT_GE(t->opened_unix_ns, opening[static_cast<size_t>(i)].first - 1'000'000) << "socket " << i;
      EXPECT_LE(t->opened_unix_ns, opening[static_cast<size_t>(i)].second + 1'000'000) << "socket " << i;
      EXPECT_TRUE(t->lived_ns) << "socket " << i;
      EXPECT_FALSE(times[2 * static_cast<size_t>(i) + 1]) << "no socket's cookie " << i;
    }
    return cookies;
  };
  // The only hold: what it took is gone.
  std::vector<uint64_t> cookies = round(75, "the only hold");
  std::vector<std::optional<kernel::SockTimes>> again(cookies.size());
  hold->take(cookies, again);
  for (size_t i = 0; i < again.size(); ++i) EXPECT_FALSE(again[i]) << "taken twice: " << i;
  // Two holds: each may want the entries, so they stay.
  {
    kernel::SockTimesHold other;
    cookies = round(75, "one of two holds");
    hold->take(cookies, again);
    for (size_t i = 0; i < again.size(); i += 2) EXPECT_TRUE(again[i]) << "gone while shared: " << i;
  }
  close(l);
}

// A CLOSE that finds the ring full (nobody took anything while more than
// its 32768 records' worth of sockets closed) leaves the times in the
// tracker's map, where take() still finds them.
TEST_F(ClosedSockets, TimesOfClosesTheRingHadNoRoomForComeFromTheMap) {
  kernel::SockTimesHold hold;
  if (!hold.failure().empty()) GTEST_SKIP() << "no BPF tracker here: " << hold.failure();
  int l = tcp_listener("127.0.0.1", 0, 256);
  const int p = local_port(l);
  auto connection = [&] {
    int fd = tcp_connect("127.0.0.1", p);
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
    close(tcp_accept(l));
    close(fd);
    return cookie;
  };
  // Two records a connection (both ends): past the ring's room.
  const uint64_t first = connection();
  for (int i = 0; i < 16400; ++i) connection();
  std::vector<uint64_t> late;
  for (int i = 0; i < 5; ++i) late.push_back(connection());
  std::vector<std::optional<kernel::SockTimes>> times(late.size());
  const uint64_t ring_before = hold.ring_records();
  hold.take(late, times);
  EXPECT_EQ(ring_before, 0u) << "nothing taken before";
  EXPECT_LE(hold.ring_records(), uint64_t{32767}) << "the ring holds no more: the late sockets' times are the map's";
  for (size_t i = 0; i < late.size(); ++i) {
    EXPECT_TRUE(times[i]) << "late socket " << i;
    if (times[i]) {
      EXPECT_TRUE(times[i]->lived_ns) << "late socket " << i;
    }
  }
  // And the first, from the ring.
  std::vector<std::optional<kernel::SockTimes>> one(1);
  hold.take(std::span<const uint64_t>(&first, 1), one);
  EXPECT_TRUE(one[0]) << "the first socket, whose record the ring kept";
  close(l);
}

// This process's BPF objects (programs, links, maps), through its fds.
int bpf_fds() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (target.rfind("anon_inode:bpf", 0) == 0) ++n;
  }
  return n;
}

// The tracker's link: a tp_btf program is attached as a raw tracepoint link.
int tracepoint_links() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo"))
    if (slurp(entry.path()).find("link_type:\traw_tracepoint") != std::string::npos) ++n;
  return n;
}

// Mappings of BPF maps in this process (the tracker's .bss and its ring).
int bpf_mappings() {
  int n = 0;
  std::istringstream maps(slurp("/proc/self/maps"));
  for (std::string line; std::getline(maps, line);)
    if (line.find("anon_inode:bpf-map") != std::string::npos) ++n;
  return n;
}

TEST_F(ClosedSockets, TheTrackerIsLoadedOnlyForItsColumnsBeforeSubscribingAndLeavesNothingBehind) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  const int fds = open_fd_count(), bpf = bpf_fds(), mappings = bpf_mappings();
  for (std::string columns : {"cookie, closed_time", "opened_time", "duration_ms", "*"}) {
    SCOPED_TRACE(columns);
    Reader reader("SELECT " + columns + " FROM closed_sockets(60000) WHERE remote_port = " + str(p) + " LIMIT 1");
    ASSERT_TRUE(wait_until(subscribed));
    bool wanted = columns != "cookie, closed_time";
    // Loaded before the subscription: in place as soon as it is.
    EXPECT_EQ(tracepoint_links(), wanted ? 1 : 0);
    EXPECT_EQ(bpf_fds() > bpf, wanted);
    EXPECT_EQ(bpf_mappings() > mappings, wanted);
    exchange(l, "127.0.0.1", p, 10);
    ASSERT_TRUE(reader.finish());
    EXPECT_EQ(reader.error(), "");
    EXPECT_EQ(reader.rows().size(), 1u);
    // The scan's end unloads it: no program, link, map, mapping or other fd stays.
    EXPECT_TRUE(wait_until([&] { return bpf_fds() == bpf && open_fd_count() == fds && bpf_mappings() == mappings; }, 10))
        << bpf_fds() << " BPF fds, " << open_fd_count() << " fds, " << bpf_mappings() << " mappings; before " << bpf
        << ", " << fds << ", " << mappings;
  }
  close(l);
}

// Two scans of one process share the tracker, and both get the times of
// a connection they both see (the first to read it does not take it from
// the other).
TEST_F(ClosedSockets, TwoScansSharingTheTrackerBothGetTheTimes) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  std::string sql = "SELECT duration_ms IS NOT NULL, opened_time IS NOT NULL FROM closed_sockets(60000) "
                    "WHERE remote_port = " + str(p) + " LIMIT 1";
  Reader first(sql), second(sql);
  ASSERT_TRUE(wait_until([] { return joined_sock_diag_groups().size() == 2; }));
  EXPECT_EQ(tracepoint_links(), 1);  // one tracker
  exchange(l, "127.0.0.1", p, 10);
  ASSERT_TRUE(first.finish());
  ASSERT_TRUE(second.finish());
  EXPECT_EQ(first.rows(), (std::vector<Row>{{"1", "1"}}));
  EXPECT_EQ(second.rows(), (std::vector<Row>{{"1", "1"}}));
  close(l);
}

// The receive buffers (skmem rb, bytes) of this process's sock_diag
// sockets, as ss reports them (ss names them by the process's name; its
// own are "tcpdiag:ss/...").
std::set<long> sock_diag_receive_buffers() {
  std::string comm = slurp("/proc/self/comm");
  comm = "tcpdiag:" + comm.substr(0, comm.find('\n')) + "/";
  std::set<long> out;
  std::istringstream lines(run("ss -f netlink -a -m"));
  for (std::string line; std::getline(lines, line);) {
    size_t rb = line.find(",rb");
    if (line.find(comm) != std::string::npos && rb != std::string::npos) out.insert(std::stol(line.substr(rb + 3)));
  }
  return out;
}

// Only the scan that listens until interrupted (the collector's) pins a
// large receive buffer; a bounded scan keeps netsql's netlink default.
TEST_F(ClosedSockets, OnlyAStreamScanAsksForTheLargeReceiveBuffer) {
  for (std::string wait : {"60000", "-1"}) {
    Reader reader("SELECT local_port FROM closed_sockets(" + wait + ") WHERE protocol = 'udp' AND local_port = 9 LIMIT 1");
    ASSERT_TRUE(wait_until(subscribed));
    // The kernel doubles what is asked: 8 MiB (1 MiB) asked, 16 (2) counted.
    EXPECT_EQ(sock_diag_receive_buffers(), std::set<long>{wait == "-1" ? 16L << 20 : 2L << 20}) << wait;
    end_by_a_close_on_port_9(reader);
    ASSERT_TRUE(reader.finish());
  }
}

// Without the privilege to load BPF the scan still runs: the times are NULL.
TEST_F(ClosedSockets, WithoutBpfPrivilegeTheTimesAreNull) {
  int l = tcp_listener("127.0.0.1", 0);
  int p = local_port(l);
  std::string got;
  std::atomic<bool> done{false};
  std::thread child([&] {
    got = run_as_nobody({"SELECT local_port || ',' || (opened_time IS NULL) || (duration_ms IS NULL) FROM closed_sockets(60000) "
                         "WHERE remote_port = " + str(p) + " LIMIT 1"});
    done = true;
  });
  wait_until([&] { return subscribed() || done; });
  int port = done ? 0 : exchange(l, "127.0.0.1", p, 10);
  child.join();
  EXPECT_EQ(got, str(port) + ",11;");
  close(l);
}

TEST_F(ClosedSockets, NetnsArgumentListensInThatNamespace) {
  std::string name = "netsql-closed-" + str(getpid());
  sh("ip netns add " + name + " && ip -n " + name + " link set lo up");
  // Sockets inside the other namespace come from a thread that entered it.
  auto inside = [&](const std::function<void()>& f) { in_named_netns(name, f); };
  int l = -1, p = 0;
  inside([&] {
    l = tcp_listener("127.0.0.1", 0);
    p = local_port(l);
  });
  Reader reader("SELECT local_port, netns FROM closed_sockets(60000, '" + name + "') WHERE remote_port = " + str(p) +
                " LIMIT 1");
  bool joined = false;
  ASSERT_TRUE(wait_until([&] {
    inside([&] { joined = subscribed(); });
    return joined;
  }));
  EXPECT_FALSE(subscribed()) << "joined in the caller's namespace";
  int port = 0;
  inside([&] { port = exchange(l, "127.0.0.1", p, 10); });
  ASSERT_TRUE(reader.finish());
  ASSERT_EQ(reader.error(), "");
  EXPECT_EQ(reader.rows(), (std::vector<Row>{{str(port), name}}));
  close(l);
  sh("ip netns del " + name);
}

}  // namespace
}  // namespace netsql::test
