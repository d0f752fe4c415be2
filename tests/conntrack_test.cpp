// conntrack: the ctnetlink parser over recorded and damaged replies, and the
// table against conntrack -L -o extended in a namespace pair joined by a
// veth, with an nft ct state rule, a DNAT and an SNAT rule.
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <algorithm>
#include <map>
#include <regex>
#include <memory>
#include <sstream>
#include <thread>

#include "kernel/conntrack.h"
#include "support.h"

namespace netsql::test {
namespace {

std::map<std::string, std::vector<uint8_t>> recorded() {
  std::ifstream in(NETSQL_SOURCE_DIR "/tests/fixtures/conntrack.hex");
  std::map<std::string, std::vector<uint8_t>> out;
  std::string name, hex;
  while (in >> name >> hex) {
    auto& b = out[name];
    for (size_t i = 0; i + 1 < hex.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}
const nlmsghdr* hdr(const std::vector<uint8_t>& b) { return reinterpret_cast<const nlmsghdr*>(b.data()); }

TEST(ConntrackParse, RecordedSnatFlowWithoutAccounting) {
  auto c = kernel::parse_conntrack(hdr(recorded().at("ct_udp_snat_noacct")));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->malformed);
  EXPECT_EQ(c->family, AF_INET);
  EXPECT_EQ(c->orig.protocol, IPPROTO_UDP);
  EXPECT_EQ(c->orig.src_text(), "10.9.0.1");
  EXPECT_EQ(c->orig.dst_text(), "10.9.0.2");
  EXPECT_EQ(c->orig.dport, 5353);
  EXPECT_EQ(c->reply.src_text(), "10.9.0.2");
  EXPECT_EQ(c->reply.dst_text(), "10.9.0.11");
  EXPECT_EQ(c->reply.dport, c->orig.sport);
  EXPECT_TRUE(c->source_translated());
  EXPECT_FALSE(c->destination_translated());
  EXPECT_FALSE(c->tcp_state);
  EXPECT_FALSE(c->counters_orig);
  EXPECT_FALSE(c->counters_reply);
  ASSERT_TRUE(c->status);
  EXPECT_EQ(kernel::conntrack_status_text(*c->status), "SEEN_REPLY,CONFIRMED,SRC_NAT,SRC_NAT_DONE,DST_NAT_DONE");
  EXPECT_EQ(c->mark, 0u);
  EXPECT_TRUE(c->id);
  EXPECT_TRUE(c->timeout);
}

TEST(ConntrackParse, RecordedDnatFlowWithAccounting) {
  auto c = kernel::parse_conntrack(hdr(recorded().at("ct_tcp_dnat_acct")));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->orig.protocol, IPPROTO_TCP);
  EXPECT_EQ(c->orig.dst_text(), "10.9.9.9");
  EXPECT_EQ(c->orig.dport, 80);
  EXPECT_EQ(c->reply.src_text(), "10.9.0.2");
  EXPECT_EQ(c->reply.sport, 8080);
  EXPECT_TRUE(c->destination_translated());
  EXPECT_FALSE(c->source_translated());
  ASSERT_TRUE(c->tcp_state);
  EXPECT_EQ(kernel::tcp_conntrack_state_name(*c->tcp_state), "ESTABLISHED");
  ASSERT_TRUE(c->counters_orig);
  ASSERT_TRUE(c->counters_reply);
  EXPECT_GE(c->counters_orig->packets, 3u);  // handshake and data
  EXPECT_GT(c->counters_orig->bytes, c->counters_orig->packets * 40);
}

TEST(ConntrackParse, RecordedIcmpHasNoPorts) {
  auto c = kernel::parse_conntrack(hdr(recorded().at("ct_icmp")));
  ASSERT_TRUE(c);
  EXPECT_EQ(kernel::ip_protocol_name(c->orig.protocol), "icmp");
  EXPECT_FALSE(c->orig.sport);
  EXPECT_FALSE(c->orig.dport);
  EXPECT_FALSE(c->source_translated());
  EXPECT_FALSE(c->destination_translated());
}

TEST(ConntrackParse, EveryTruncationIsSafe) {
  auto m = recorded();
  for (const auto& [name, bytes] : m) {
    for (size_t n = sizeof(nlmsghdr); n <= bytes.size(); ++n) {
      std::unique_ptr<uint8_t[]> copy(new uint8_t[n]);
      std::memcpy(copy.get(), bytes.data(), n);
      reinterpret_cast<nlmsghdr*>(copy.get())->nlmsg_len = static_cast<uint32_t>(n);
      auto c = kernel::parse_conntrack(reinterpret_cast<const nlmsghdr*>(copy.get()));
      ASSERT_EQ(c.has_value(), n >= NLMSG_LENGTH(sizeof(nfgenmsg))) << name << " " << n;
      if (!c) continue;
      // A reply tuple cut away must not read as a translation.
      if (!c->reply.family) {
        EXPECT_FALSE(c->source_translated() || c->destination_translated()) << name << " " << n;
      }
      if (n < bytes.size() && n % 4) {
        EXPECT_TRUE(c->malformed) << name << " " << n;
      }
    }
  }
}

TEST(ConntrackParse, DamagedAttributes) {
  auto bytes = recorded().at("ct_tcp_dnat_acct");
  // The first attribute (CTA_TUPLE_ORIG) claims more than the message holds.
  size_t first = NLMSG_HDRLEN + sizeof(nfgenmsg);
  uint16_t huge = 0xfff0;
  std::memcpy(bytes.data() + first, &huge, 2);
  auto c = kernel::parse_conntrack(hdr(bytes));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->malformed);
  EXPECT_EQ(c->orig.family, 0);
  EXPECT_FALSE(c->status);
  EXPECT_FALSE(c->source_translated());
  // Another message type is no entry.
  bytes = recorded().at("ct_icmp");
  reinterpret_cast<nlmsghdr*>(bytes.data())->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
  EXPECT_FALSE(kernel::parse_conntrack(hdr(bytes)));
}

TEST(ConntrackNat, APortAloneTranslatedCounts) {
  kernel::Conntrack c;
  c.family = AF_INET;
  for (auto* t : {&c.orig, &c.reply}) {
    t->family = AF_INET;
    t->protocol = IPPROTO_UDP;
  }
  uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
  std::memcpy(c.orig.src, a, 4);
  std::memcpy(c.orig.dst, b, 4);
  std::memcpy(c.reply.src, b, 4);
  std::memcpy(c.reply.dst, a, 4);
  c.orig.sport = c.reply.dport = 1000;
  c.orig.dport = c.reply.sport = 53;
  EXPECT_FALSE(c.source_translated());
  EXPECT_FALSE(c.destination_translated());
  c.reply.dport = 2000;  // masquerade with a port change only
  EXPECT_TRUE(c.source_translated());
  c.reply.sport = 5353;  // redirect to another local port
  EXPECT_TRUE(c.destination_translated());
}

TEST(ConntrackNames, StatusStatesProtocols) {
  EXPECT_EQ(kernel::conntrack_status_text(0), "");
  EXPECT_EQ(kernel::conntrack_status_text(1u << 2 | 1u << 1 | 1u << 20), "SEEN_REPLY,ASSURED,0x100000");
  EXPECT_EQ(kernel::tcp_conntrack_state_name(7), "TIME_WAIT");
  EXPECT_EQ(kernel::tcp_conntrack_state_name(99), "");
  EXPECT_EQ(kernel::ip_protocol_name(IPPROTO_ICMPV6), "icmpv6");
}

// ---- the table, live ----

// One entry of conntrack -L -o extended,id: its fields in our columns' terms.
using Entry = std::map<std::string, std::string>;

std::vector<Entry> conntrack_tool() {
  std::vector<Entry> out;
  std::istringstream lines(run("conntrack -L -o extended,id 2>/dev/null"));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream w(line);
    Entry e;
    std::string famnum, protonum;
    w >> e["family"] >> famnum >> e["protocol"] >> protonum >> e["timeout"];
    std::string word, prefix;
    bool reply = false;
    while (w >> word) {
      auto eq = word.find('=');
      if (eq == std::string::npos) {
        if (word == "[ASSURED]") e["assured"] = "1";
        else if (word == "[UNREPLIED]") e["unreplied"] = "1";
        else if (word[0] != '[') e["state"] = word;
        continue;
      }
      std::string key = word.substr(0, eq), value = word.substr(eq + 1);
      if (key == "src" && e.count("src")) reply = true;
      bool tuple = key == "src" || key == "dst" || key == "sport" || key == "dport" || key == "packets" || key == "bytes";
      e[(tuple && reply ? "reply_" : "") + key] = value;
    }
    out.push_back(e);
  }
  return out;
}

class Conntrack : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    add_peer("nsq-ct-");
    sh("ip link add nsq-a type veth peer name nsq-b netns " + peer_ +
       " && ip addr add 10.9.0.1/24 dev nsq-a && ip addr add 10.9.0.11/24 dev nsq-a && ip link set nsq-a up"
       " && ip -n " + peer_ + " addr add 10.9.0.2/24 dev nsq-b && ip -n " + peer_ + " link set nsq-b up"
       " && ip route add 10.9.9.0/24 via 10.9.0.2");
    sh("nft add table inet nsq && nft add chain inet nsq out '{ type filter hook output priority 0; }'"
       " && nft add rule inet nsq out ct state established,related accept"
       " && nft add table ip nsqnat"
       " && nft add chain ip nsqnat out '{ type nat hook output priority -100; }'"
       " && nft add rule ip nsqnat out ip daddr 10.9.9.9 tcp dport 80 dnat to 10.9.0.2:8080"
       " && nft add chain ip nsqnat post '{ type nat hook postrouting priority 100; }'"
       " && nft add rule ip nsqnat post ip daddr 10.9.0.2 udp dport 5353 snat to 10.9.0.11");
  }
  // Runs fn with the calling thread in the peer namespace (sockets it
  // creates stay there), on a thread of its own.
  void inside_peer(const std::function<void()>& fn) {
    std::thread t([&] {
      int fd = open(("/run/netns/" + peer_).c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(setns(fd, CLONE_NEWNET), 0) << strerror(errno);
      close(fd);
      fn();
    });
    t.join();
  }
};

void with_timeout(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

TEST_F(Conntrack, RowsEqualConntrackToolWithNat) {
  // UDP before accounting is on (no counters), TCP after.
  sh("echo 0 > /proc/sys/net/netfilter/nf_conntrack_acct");
  int server = -1, listener = -1;
  inside_peer([&] {
    server = udp_socket("10.9.0.2", 5353);
    listener = tcp_listener("10.9.0.2", 8080);
  });
  int client = udp_socket("10.9.0.1", 0, "10.9.0.2", 5353);
  with_timeout(client);
  with_timeout(server);
  char buf[16];
  ASSERT_EQ(send(client, "q", 1, 0), 1);
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  ASSERT_EQ(recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len), 1);
  ASSERT_EQ(sendto(server, "a", 1, 0, reinterpret_cast<sockaddr*>(&from), from_len), 1);
  ASSERT_EQ(recv(client, buf, sizeof buf, 0), 1);
  sh("echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct");
  int c = tcp_connect("10.9.9.9", 80);
  int s = tcp_accept(listener);
  with_timeout(c);
  with_timeout(s);
  ASSERT_EQ(send(c, "hi", 2, 0), 2);
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), 2);
  ASSERT_EQ(send(s, "ok", 2, 0), 2);
  ASSERT_EQ(recv(c, buf, sizeof buf, 0), 2);

  Db db;
  std::string sport = std::to_string(local_port(client)), cport = std::to_string(local_port(c));
  // The NAT columns: UDP's source went out as 10.9.0.11, TCP's destination
  // 10.9.9.9:80 is really 10.9.0.2:8080.
  EXPECT_EQ(db.rows("SELECT protocol, src, sport, dst, dport, snat_address, snat_port, dnat_address, dnat_port, "
                    "packets IS NULL FROM conntrack ORDER BY protocol"),
            (std::vector<Row>{{"tcp", "10.9.0.1", cport, "10.9.9.9", "80", {}, {}, "10.9.0.2", "8080", "0"},
                              {"udp", "10.9.0.1", sport, "10.9.0.2", "5353", "10.9.0.11", sport, {}, {}, "1"}}));
  // Every column conntrack -L -o extended,id prints (timeout aside: it counts down).
  auto tool = conntrack_tool();
  ASSERT_EQ(tool.size(), 2u);
  std::vector<Entry> ours;
  for (const auto& r : db.rows("SELECT family, protocol, state, src, dst, sport, dport, packets, bytes, reply_src, "
                               "reply_dst, reply_sport, reply_dport, reply_packets, reply_bytes, "
                               "instr(status, 'ASSURED') > 0, instr(status, 'SEEN_REPLY') = 0, mark, use, id "
                               "FROM conntrack")) {
    static const char* kKeys[] = {"family", "protocol", "state", "src", "dst", "sport", "dport", "packets", "bytes",
                                  "reply_src", "reply_dst", "reply_sport", "reply_dport", "reply_packets",
                                  "reply_bytes", "assured", "unreplied", "mark", "use", "id"};
    Entry e;
    // conntrack leaves out what is absent, and flags that are off.
    for (size_t i = 0; i < r.size(); ++i)
      if (r[i] && (*r[i] != "0" || std::string(kKeys[i]) == "mark")) e[kKeys[i]] = *r[i];
    ours.push_back(e);
  }
  for (auto& e : tool) e.erase("timeout");
  auto by_id = [](const Entry& a, const Entry& b) { return a.at("id") < b.at("id"); };
  std::sort(ours.begin(), ours.end(), by_id);
  std::sort(tool.begin(), tool.end(), by_id);
  EXPECT_EQ(ours, tool);

  // Pushed down: family, mark, zone; values no row can have ask the kernel nothing.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE family = 'ipv6'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE family IN ('ipv4', 'ipv6')"), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE mark = 0"), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE mark = 7"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE mark = 4294967296"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE zone = 0"), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE zone = 3"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conntrack WHERE zone = -1"), 0);
  // The kernel itself honours the filters those pushdowns send.
  auto kernel_count = [](uint8_t family, std::optional<uint32_t> mark, std::optional<uint16_t> zone) {
    kernel::ConntrackQuery q;
    q.family = family;
    q.mark = mark;
    q.zone = zone;
    std::vector<kernel::Request> reqs{kernel::conntrack_dump_request(q)};
    kernel::DumpSequence d(kernel::NetlinkSocket(NETLINK_NETFILTER), std::move(reqs));
    int n = 0;
    while (d.next()) ++n;
    return n;
  };
  EXPECT_EQ(kernel_count(0, {}, {}), 2);
  EXPECT_EQ(kernel_count(AF_INET6, {}, {}), 0);
  EXPECT_EQ(kernel_count(AF_INET, 0, {}), 2);
  EXPECT_EQ(kernel_count(0, 7, {}), 0);
  EXPECT_EQ(kernel_count(0, {}, 3), 0);
  // netstat -M: the NATed flows in net-tools' masquerade layout.
  std::istringstream m(run(NETSQL_SHELL_PATH " netstat -M -n"));
  std::vector<std::string> lines;
  for (std::string l; std::getline(m, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u) << m.str();
  EXPECT_EQ(lines[0], "IP masquerade connections");
  EXPECT_EQ(lines[1].rfind("prot   expire source               destination          ports", 0), 0u) << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex("tcp +[0-9]+:[0-9]{2}\\.00 10\\.9\\.0\\.1 +10\\.9\\.9\\.9 +" + cport +
                                                    " -> 80 +destination 10\\.9\\.0\\.2:8080")))
      << lines[2];
  EXPECT_TRUE(std::regex_match(lines[3], std::regex("udp +[0-9]+:[0-9]{2}\\.00 10\\.9\\.0\\.1 +10\\.9\\.0\\.2 +" + sport +
                                                    " -> 5353 +source 10\\.9\\.0\\.11:" + sport)))
      << lines[3];
  EXPECT_EQ(run(NETSQL_SHELL_PATH " netstat -M -6 -n"), "IP masquerade connections\nprot   expire source               destination          ports            translated to\n");
  EXPECT_EQ(db.error("SELECT * FROM conntrack WHERE family = 'inet'"),
            "conntrack: invalid family 'inet' (expected ipv4 or ipv6)");
  for (int fd : {client, server, c, s, listener}) close(fd);
}

TEST_F(Conntrack, UnprivilegedCallerGetsAnErrorSayingWhy) {
  std::string got = run_as_nobody({"SELECT count(*) FROM conntrack"});
  EXPECT_EQ(got,
            "error: conntrack: reading the connection tracking table needs CAP_NET_ADMIN in the network namespace (the "
            "kernel refused the ctnetlink dump: Operation not permitted);");
}

}  // namespace
}  // namespace netsql::test
