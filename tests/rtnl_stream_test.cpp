// rtnetlink tables stream while the kernel's tables change under them:
// routes added during a scan, addresses churned so that the kernel flags
// its dump NLM_F_DUMP_INTR (restarted while held back: no row lost or
// repeated), links churned during a dump longer than the hold-back window
// (finished, and reported as an SQLITE_WARNING).
#include <signal.h>
#include <sys/socket.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

#include "kernel/dump_stream.h"
#include "kernel/rtnl.h"
#include "support.h"

namespace netsql::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(90);

// A shell script running in the background (in this namespace) until the
// test ends.
class Background {
 public:
  explicit Background(const std::string& script) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", script.c_str(), nullptr);
      _exit(127);
    }
  }
  ~Background() {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool running() { return waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_;
};

// Writes `lines` to a file for ip -batch; returns its path.
std::string batch_file(const std::string& name, const std::vector<std::string>& lines) {
  std::string path = "/tmp/netsql-" + name + "-" + std::to_string(getpid()) + ".batch";
  std::ofstream out(path);
  for (const auto& l : lines) out << l << '\n';
  return path;
}

// How often each text occurs in column 0 of the rows.
std::map<std::string, int> tally(const std::vector<Row>& rows) {
  std::map<std::string, int> n;
  for (const auto& r : rows) ++n[r[0].value_or("NULL")];
  return n;
}

// Of `counts`, those keys starting with `prefix`; every one must occur once.
std::map<std::string, int> with_prefix(const std::map<std::string, int>& counts, const std::string& prefix) {
  std::map<std::string, int> out;
  for (const auto& [k, n] : counts)
    if (k.rfind(prefix, 0) == 0) out[k] = n;
  return out;
}

bool each_once(const std::map<std::string, int>& counts, size_t expected) {
  if (counts.size() != expected) return false;
  for (const auto& [k, n] : counts)
    if (n != 1) return false;
  return true;
}

// SQLITE_WARNING messages logged while a Warnings lives (sqlite3_log).
std::vector<std::string>* g_warnings = nullptr;
void capture_log(void*, int code, const char* msg) {
  if (code == SQLITE_WARNING && g_warnings) g_warnings->push_back(msg);
}

struct Warnings {
  std::vector<std::string> logged;
  Warnings() {
    sqlite3_shutdown();
    EXPECT_EQ(sqlite3_config(SQLITE_CONFIG_LOG, capture_log, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_initialize(), SQLITE_OK);
    g_warnings = &logged;
  }
  ~Warnings() { g_warnings = nullptr; }
};

const std::string kChangedWarning =
    ": the kernel's table changed while its dump was being read (NLM_F_DUMP_INTR) after rows had been returned; rows "
    "of the part that changed may be missing or repeated";

class RtnlStream : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    sh("ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up");
  }
  void TearDown() override {
    for (const auto& f : files_) unlink(f.c_str());
  }
  std::string batch(const std::string& name, const std::vector<std::string>& lines) {
    files_.push_back(batch_file(name, lines));
    return files_.back();
  }
  std::vector<std::string> files_;
};

// Each family's dump of the world alone is longer than the hold-back
// window, so its rows cross from held back to streamed.
TEST_F(RtnlStream, RoutesStayExactWhileTheTableGrows) {
  const int kRoutes = 20000;
  std::vector<std::string> world, more;
  for (int i = 0; i < kRoutes; ++i) {
    world.push_back("route add 11." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24 dev v0");
    char v6[64];
    std::snprintf(v6, sizeof v6, "route add fd11:%x::/64 dev v0", i);
    world.push_back(v6);
  }
  for (int i = 0; i < 40000; ++i) {
    more.push_back("route add 12." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                   std::to_string(i % 256) + "/32 dev v0");
    char v6[64];
    std::snprintf(v6, sizeof v6, "route add fd12::%x/128 dev v0", i);
    more.push_back(v6);
  }
  sh("ip -batch " + batch("world", world));
  Db db;
  const std::string query = "SELECT destination FROM routes WHERE table_id = 254";
  long long before = db.scalar("SELECT count(*) FROM routes WHERE table_id = 254");
  // The batch, then one route at a time until the test has seen the table
  // grow between two of its scans (however slow a scan is, e.g. under ASan).
  Background writer("ip -batch " + batch("more", more) +
                    " && i=0 && while :; do ip route add 13.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))/32 "
                    "dev v0 || exit 1; i=$((i + 1)); done");
  int scans = 0;
  long long last = before;
  bool grew = false;
  for (auto end = Clock::now() + kDeadline; !grew && writer.running() && Clock::now() < end;) {
    auto rows = db.rows(query);
    auto counts = tally(rows);
    ++scans;
    // Every route that was there before is there once, whatever was added.
    EXPECT_TRUE(each_once(with_prefix(counts, "11."), kRoutes)) << "scan " << scans;
    EXPECT_TRUE(each_once(with_prefix(counts, "fd11:"), kRoutes)) << "scan " << scans;
    grew |= static_cast<long long>(rows.size()) > last && last > before;
    last = static_cast<long long>(rows.size());
    if (HasFailure()) break;
  }
  EXPECT_TRUE(grew) << "no two scans saw the table grow (" << scans << " scans)";
}

// The world of the address tests: kStable addresses on s0, and a writer
// that keeps adding and deleting addresses on v0. Every change makes the
// kernel flag a dump running meanwhile (NLM_F_DUMP_INTR). v0's addresses
// come first in a dump (lower ifindex), so the changes never move s0's:
// the kernel hands out each of those exactly once per attempt, and a
// stable address seen twice or missing is a restart that leaked rows of
// an abandoned attempt. (Changes among the very rows being dumped can
// defeat the kernel's own check: a change made just as a batch begins goes
// unflagged.)
class AddressChurn : public RtnlStream {
 protected:
  static constexpr int kStable = 2000;
  void SetUp() override {
    RtnlStream::SetUp();
    if (IsSkipped()) return;
    std::vector<std::string> stable, churn;
    for (int i = 0; i < kStable; ++i)
      stable.push_back("addr add 10.200." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + "/32 dev s0");
    for (int i = 1; i <= 5; ++i) churn.push_back("addr add 10.99.0." + std::to_string(i) + "/32 dev v0 scope link");
    for (int i = 1; i <= 5; ++i) churn.push_back("addr del 10.99.0." + std::to_string(i) + "/32 dev v0");
    sh("ip link add s0 index 1000 type veth peer name s1 && ip link set s0 up");
    sh("ip -batch " + batch("stable", stable));
    writer_.emplace("while :; do ip -batch " + batch("churn", churn) + "; done");
  }
  void TearDown() override {
    writer_.reset();
    RtnlStream::TearDown();
  }
  // How often each stable address occurs in one dump.
  static std::map<std::string, int> stable_in(kernel::DumpStream& s) {
    std::map<std::string, int> counts;
    kernel::AddressMessage a;
    while (const nlmsghdr* m = s.next())
      if (a.parse(m)) ++counts[a.address()];
    return with_prefix(counts, "10.200.");
  }
  std::optional<Background> writer_;
};

TEST_F(AddressChurn, FlaggedDumpsRestartWhileHeldBackSoNoRowIsLostOrRepeated) {
  kernel::Netns here;
  int restarted = 0, dumps = 0;
  for (auto end = Clock::now() + kDeadline; restarted < 3 && Clock::now() < end; ++dumps) {
    std::vector<kernel::Request> reqs;
    reqs.push_back(kernel::address_dump_request(AF_INET));
    kernel::DumpStream s(kernel::rtnl_socket(here), std::move(reqs));
    ASSERT_TRUE(each_once(stable_in(s), kStable)) << "dump " << dumps << " after " << s.restarts() << " restarts";
    if (!s.take_inconsistency()) restarted += s.restarts() > 0;  // else: flagged through every restart
  }
  EXPECT_EQ(restarted, 3) << "no dump was flagged and restarted in " << dumps << " dumps";
}

TEST_F(AddressChurn, PastTheWindowAFlaggedDumpIsFinishedAndReported) {
  kernel::Netns here;
  int reported = 0, dumps = 0;
  for (auto end = Clock::now() + kDeadline; reported < 3 && Clock::now() < end; ++dumps) {
    std::vector<kernel::Request> reqs;
    reqs.push_back(kernel::address_dump_request(AF_INET));
    kernel::DumpStream s(kernel::rtnl_socket(here), std::move(reqs), {}, /*hold_bytes*/ 0);
    ASSERT_TRUE(each_once(stable_in(s), kStable)) << "dump " << dumps;
    EXPECT_EQ(s.restarts(), 0);  // nothing is held back, so nothing can be taken back
    reported += s.take_inconsistency();
  }
  EXPECT_EQ(reported, 3) << "no inconsistency reported in " << dumps << " dumps";
}

TEST_F(AddressChurn, QueriesSeeEveryAddressOnce) {
  Db db;
  for (int i = 0; i < 40; ++i) {
    auto rows = db.rows("SELECT address FROM interface_addresses WHERE family = 'inet'");
    auto counts = with_prefix(tally(rows), "10.200.");
    ASSERT_TRUE(each_once(counts, kStable)) << "query " << i;
  }
}

// 400 veth pairs make a link dump of about 1.2 MB, longer than the window;
// a writer adds and deletes links meanwhile.
TEST_F(RtnlStream, ALongDumpChangedPastTheWindowWarns) {
  std::vector<std::string> links, churn;
  for (int i = 0; i < 400; ++i)
    links.push_back("link add x" + std::to_string(i) + " type veth peer name y" + std::to_string(i));
  churn = {"link add c0 type veth peer name c1", "link del c0"};
  sh("ip -batch " + batch("links", links));
  Warnings warnings;
  Db db;
  Background writer("while :; do ip -batch " + batch("churn", churn) + "; done");
  int queries = 0;
  for (auto end = Clock::now() + kDeadline; warnings.logged.empty() && Clock::now() < end; ++queries)
    ASSERT_GT(db.scalar("SELECT count(*) FROM interfaces"), 0);  // finished, never an error
  ASSERT_FALSE(warnings.logged.empty()) << "no warning in " << queries << " queries";
  EXPECT_EQ(warnings.logged[0], "interfaces" + kChangedWarning);
}

}  // namespace
}  // namespace netsql::test
