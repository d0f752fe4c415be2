// `netsql netstat` against the real net-tools netstat, byte for byte
// (trailing blanks aside), in a private namespace whose world shows each
// layout: IPv4 and IPv6 routes with reject and blackhole entries, a down
// interface, IPv6 wildcards, raw and unix sockets, the counters of -s.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "support.h"

namespace netsql::test {
namespace {

// Each in this thread's namespace, under run_captured's deadline.
Ran ours(const std::string& flags) { return run_captured(std::string(NETSQL_SHELL_PATH) + " netstat " + flags); }
Ran theirs(const std::string& flags) { return run_captured("netstat " + flags); }

// The text with each line's trailing blanks dropped.
std::string trimmed(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// A unix socket listening on `path` (removed first).
int unix_listener(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  path.copy(a.sun_path, sizeof a.sun_path - 1);
  unlink(path.c_str());
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(fd, 4), 0);
  return fd;
}

// Ours and netstat's runs of `flags`, taken between two of netstat's that
// agree: counters (packets, -s) move with the kernel's own traffic, so the
// pair is retaken, with a deadline, until nothing moved meanwhile.
std::pair<Ran, Ran> quiet_pair(const std::string& flags) {
  Ran mine, real;
  bool quiet = wait_until([&] {
    std::string before = theirs(flags).out;
    mine = ours(flags);
    real = theirs(flags);
    return before == real.out;
  });
  EXPECT_TRUE(quiet) << "netstat " << flags << " never held still";
  return {mine, real};
}

class NetstatExact : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    // ns0/ns1 carry IPv4 alone; ns2 IPv6 without a link-local address (no
    // router solicitations or DAD moving the counters).
    sh("ip link add ns0 type veth peer name ns1 && sysctl -qw net.ipv6.conf.ns0.disable_ipv6=1 && "
       "sysctl -qw net.ipv6.conf.ns1.disable_ipv6=1 && ip link set ns0 up && ip link set ns1 up && "
       "ip link add br9 type bridge && "
       "ip addr add 10.5.0.1/24 dev ns0 && ip route add 10.6.0.0/16 via 10.5.0.2 && "
       "ip route add blackhole 10.8.0.0/16 && ip route add unreachable 10.9.0.0/16 && ip route add prohibit 10.10.0.0/16 && "
       "ip link add ns2 type veth peer name ns3 && sysctl -qw net.ipv6.conf.ns2.addr_gen_mode=1 && "
       "sysctl -qw net.ipv6.conf.ns3.disable_ipv6=1 && ip link set ns2 up && ip link set ns3 up && "
       "ip -6 addr add 2001:db8::1/64 dev ns2 nodad && ip -6 route add 2001:db8:1::/48 via 2001:db8::2 && "
       "ip -6 route add blackhole 2001:db8:2::/48 && ip -6 route add unreachable 2001:db8:3::/48 && "
       "ip -6 route add prohibit 2001:db8:4::/48");
    fds_ = {tcp_listener("0.0.0.0", 8080), tcp_listener("::", 8443), udp_socket("::", 5353),
            socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP), socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6),
            unix_listener(path_)};
    // A connected stream pair, and a datagram socket with a client: each
    // socket's RefCnt counts the sockets connected to it.
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    int server = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), client = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    (path_ + "-dgram").copy(a.sun_path, sizeof a.sun_path - 1);
    unlink(a.sun_path);
    ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    fds_.insert(fds_.end(), {pair[0], pair[1], server, client});
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    unlink(path_.c_str());
    unlink((path_ + "-dgram").c_str());
  }
  // Ours and netstat's standard output, trailing blanks aside, and exit status.
  void expect_same(const std::string& flags) {
    auto [mine, real] = quiet_pair(flags);
    EXPECT_EQ(trimmed(mine.out), trimmed(real.out)) << "netstat " << flags << "\n" << mine.err;
    EXPECT_EQ(mine.status, real.status) << "netstat " << flags;
    EXPECT_NE(real.out, "") << flags;
  }

  std::vector<int> fds_;
  std::string path_ = "/tmp/netsql-netstat-test-" + std::to_string(getpid()) + ".sock";
};

TEST_F(NetstatExact, RoutesIPv4WithRejectAndBlackholeEntries) {
  for (const char* flags : {"-rn", "-r", "-rne", "-re", "--route --numeric", "--route --numeric --extend", "-rnv",
                            "-rnN", "-rnF", "-rC", "-A inet -rn", "-4 -rn"})
    expect_same(flags);
}

// netstat reads /proc/net/ipv6_route, whose Ref column (the route's
// reference count) netsql has no source for: every column but that one.
std::string without_ref(const std::string& text) {
  std::istringstream in(trimmed(text));
  std::string line, out;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w;
    std::vector<std::string> tokens;
    while (words >> w) tokens.push_back(w);
    if (tokens.size() == 7 && tokens[0] != "Destination") {
      size_t at = 0;
      for (int i = 0; i < 4; ++i) at = line.find(tokens[i], at) + tokens[i].size();
      size_t ref = line.find(tokens[4], at);
      line = line.substr(0, ref) + "R" + line.substr(ref + tokens[4].size());
    }
    out += line + "\n";
  }
  return out;
}

TEST_F(NetstatExact, RoutesIPv6InKernelOrderWithNullAndRejectEntries) {
  for (const char* flags : {"-6 -rn", "-6 -r", "-A inet6 -rn", "--inet6 --route", "-6 -rne"}) {
    auto [mine, real] = quiet_pair(flags);
    EXPECT_EQ(without_ref(mine.out), without_ref(real.out)) << "netstat " << flags << "\n" << mine.err;
    EXPECT_NE(real.out.find("!n"), std::string::npos) << flags;
    EXPECT_NE(real.out.find("Un "), std::string::npos) << flags;
  }
}

TEST_F(NetstatExact, InterfacesOrderedByNameAndAligned) {
  for (const char* flags : {"-i", "-ia", "--interfaces --all", "-in", "-ie", "-iea", "--interfaces --extend"}) expect_same(flags);
}

TEST_F(NetstatExact, SocketsWithNamesWildcardsAndUnixState) {
  for (const char* flags : {"-tl", "-tln", "-ul", "-x", "-xa", "-xl", "--unix --listening", "-tl --numeric-ports",
                            "-tl --numeric-hosts", "-A inet -tl", "-A inet6 -tl", "--tcp --udp --listening --numeric",
                            "-l -A unix", "--all --raw --numeric", "-W -tln", "--wide --tcp --all --numeric",
                            "--list -tn", "-lnx -4", "-wa", "-w -l", "--raw --all", "-tle", "-tlen", "-tle --numeric-users"})
    expect_same(flags);
}

TEST_F(NetstatExact, VerboseNamesTheFamiliesThisSystemLacks) {
  Ran mine = ours("-v"), real = theirs("-v");
  EXPECT_EQ(mine.err, real.err);
  EXPECT_NE(real.err.find("`AF IPX'"), std::string::npos);
  for (const char* flags : {"-A ipx -tln", "-v -tln"}) {
    mine = ours(flags), real = theirs(flags);
    EXPECT_EQ(trimmed(mine.out), trimmed(real.out)) << flags;
    EXPECT_EQ(mine.err, real.err) << flags;
    EXPECT_EQ(mine.status, real.status) << flags;
  }
}

TEST_F(NetstatExact, ContextAndFamilyErrors) {
  if (access("/sys/fs/selinux/enforce", F_OK) != 0) {
    Ran mine = ours("-tlnZ"), real = theirs("-tlnZ");
    EXPECT_EQ(mine.out + mine.err, real.out + real.err);
    EXPECT_EQ(mine.status, real.status);
  }
  for (const char* flags : {"-s -A unix", "-sx", "-s -4 -6", "-s -6 -4"}) expect_same(flags);
  // netstat's own refusal of a family it does not know: its words alone, exit 1.
  for (const char* flags : {"-A foo -tl", "-A all", "-A inet,all", "--protocol=x -l"}) {
    Ran mine = ours(flags), real = theirs(flags);
    EXPECT_EQ(mine.out, real.out) << flags;
    EXPECT_EQ(mine.err, real.err) << flags;
    EXPECT_EQ(mine.status, real.status) << flags;
    EXPECT_EQ(real.status, 1) << flags;
  }
  // The parser's own mistakes in the shell's one wording, then the usage, exit 2.
  Ran r = ours("--nu -tl");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            "netsql netstat: ambiguous option '--nu': --numeric, --numeric-hosts, --numeric-ports, --numeric-users");
  EXPECT_NE(r.err.find("usage: netsql netstat"), std::string::npos) << r.err;
  r = ours("-tulpnz");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "netsql netstat: unknown option '-z'");
}

// -U (UDP-Lite) lists what netstat lists here: the Internet header (netsql
// has no UDP-Lite table; this world has no UDP-Lite socket). -S (SCTP):
// netstat has no /proc/net/sctp, says so after the TCP sockets, prints
// nothing after them and exits 1; with -6 alone it stays quiet.
TEST_F(NetstatExact, UdpLiteSctpAndVersion) {
  for (const char* flags : {"-ltU", "-lnU", "-U", "--udplite --listening -n", "-ltuU"}) expect_same(flags);
  for (const char* flags : {"-S", "-tlnS", "-ltunS", "-Sx", "--sctp -l -x", "-lnS -e", "-6lnS", "-6Sx", "-rnS"}) {
    auto [mine, real] = quiet_pair(flags);
    EXPECT_EQ(trimmed(mine.out), trimmed(real.out)) << flags;
    EXPECT_EQ(mine.err, real.err) << flags;
    EXPECT_EQ(mine.status, real.status) << flags;
  }
  EXPECT_EQ(theirs("-S").status, 1);
  const std::string version = run_captured(std::string(NETSQL_SHELL_PATH) + " --version").out;
  ASSERT_NE(version, "");
  // -V ends the parse, as netstat: what follows is not read.
  for (const char* flags : {"-V", "--version", "-tlV", "-V -z", "-V -A foo"}) {
    Ran r = ours(flags);
    EXPECT_EQ(r.status, 0) << flags;
    EXPECT_EQ(r.out.substr(0, version.size()), version) << flags;
    EXPECT_NE(r.out.find("AF: (inet) +UNIX +INET +INET6"), std::string::npos) << r.out;
  }
}

TEST_F(NetstatExact, StatisticsInNetstatsSentencesPerProtocol) {
  // Traffic that fills sentences, histograms and the raw "Name: value"
  // lines: a TCP connection with data, a UDP datagram to a closed port
  // (ICMP port unreachable both ways), the same over IPv6.
  int l = tcp_listener("127.0.0.1", 0);
  int c = tcp_connect("127.0.0.1", local_port(l)), s = tcp_accept(l);
  ASSERT_EQ(write(c, "hello", 5), 5);
  int u = udp_socket("127.0.0.1", 0, "127.0.0.1", 9), u6 = udp_socket("::1", 0, "::1", 9);
  ASSERT_EQ(send(u, "x", 1, 0), 1);
  ASSERT_EQ(send(u6, "x", 1, 0), 1);
  for (const char* flags : {"-s", "-st", "-su", "-sw", "-stu", "-s -6", "-s6t", "-s -A inet", "--statistics --udp",
                            "-s --inet6 --raw", "-sS", "-sU", "-sU6"})
    expect_same(flags);
  std::string s4 = theirs("-s").out;
  EXPECT_NE(s4.find("active connection openings"), std::string::npos) << s4;
  EXPECT_NE(s4.find("ICMP input histogram:"), std::string::npos) << s4;
  // The kernel's names and values stay available.
  Ran raw = ours("-s --counters");
  EXPECT_NE(raw.out.find("Tcp:\n    RtoAlgorithm: 1\n"), std::string::npos) << raw.out;
  for (int fd : {l, c, s, u, u6}) close(fd);
}

// -p as a user who cannot read other processes' fds: netstat's note on
// standard error, the listing as netstat prints it.
TEST_F(NetstatExact, ProgramsAsAnUnprivilegedUserWarnAsNetstatDoes) {
  char dir[] = "/tmp/netsql-nobody-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  std::string copy = std::string(dir) + "/netsql";
  sh(std::string("cp ") + NETSQL_SHELL_PATH + " " + copy + " && chmod 755 " + dir + " " + copy);
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  for (const char* flags : {"-tlnp", "-xlp", "--tcp --listening --numeric --programs"}) {
    Ran mine = run_captured(nobody + copy + " netstat " + flags), real = run_captured(nobody + "netstat " + flags);
    EXPECT_EQ(mine.err, real.err) << flags;
    EXPECT_EQ(trimmed(mine.out), trimmed(real.out)) << flags;
    EXPECT_NE(real.err, "") << flags;
  }
  run(std::string("rm -rf ") + dir);
}

// Every SQL text the front end builds runs in a plain connection that
// loaded the extension (what --sql promises for the stock sqlite3 shell).
TEST_F(NetstatExact, EverySqlItBuildsRunsInAPlainConnection) {
  Db db;
  size_t statements = 0;
  for (const char* flags : {"-tanpeo", "-tlnW", "-uan", "-wa", "-xap", "-l", "-a", "-g", "-gn", "-rn", "-r", "-rne", "-rC",
                            "-6 -rn", "-6 -r", "-i", "-ie", "-iea", "-s", "-st", "-s6", "-s --counters", "-M", "-Mn", "-rnF", "-rnN", "-v", "-tlnZ",
                            "--numeric-hosts -ta", "--numeric-ports -ta", "-A inet6 -ta", "-x -4 -l", "-lU", "-lUep", "-tlS", "-S",
                            "-6S"}) {
    Ran r = ours("--sql " + std::string(flags));
    ASSERT_EQ(r.status, 0) << flags << ": " << r.err;
    std::string text = r.out;
    for (size_t at = 0, end; (end = text.find(";\n", at)) != std::string::npos; at = end + 2, ++statements) {
      std::string sql = text.substr(at, end - at);
      std::string error = db.error(sql);
      // conntrack needs CAP_NET_ADMIN, which the test has; anything else is the SQL's fault.
      EXPECT_EQ(error, "") << flags << ": " << sql;
    }
  }
  EXPECT_GE(statements, 28u);
}

}  // namespace
}  // namespace netsql::test
