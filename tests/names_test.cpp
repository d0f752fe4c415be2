// Names from /etc/services and /etc/hosts, never from the network: the
// kernel layer's parsers on damaged lines, streamed reading, first-wins
// lookups; then the SQL functions and the services and hosts tables in a
// connection that loaded the extension, against the real files read by awk.
#include <unistd.h>

#include <fstream>

#include "kernel/names.h"
#include "support.h"

namespace netsql::test {
namespace {

using kernel::parse_host_line;
using kernel::parse_service_line;

TEST(NamesParse, ServiceLines) {
  auto s = parse_service_line("ssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "ssh");
  EXPECT_EQ(s->port, 22);
  EXPECT_EQ(s->protocol, "tcp");
  EXPECT_EQ(s->aliases, "");
  s = parse_service_line("http 80/tcp www www-http  # comment 81/tcp");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->aliases, "www www-http");
  EXPECT_EQ(parse_service_line("max 65535/udp")->port, 65535);
  for (const char* bad : {"", "   ", "# ssh 22/tcp", "ssh", "ssh 22", "ssh /tcp", "ssh 22/", "ssh 65536/tcp",
                          "ssh -1/tcp", "ssh 2x/tcp", "ssh 99999999999999999999/tcp", "ssh#x 22/tcp"})
    EXPECT_FALSE(parse_service_line(bad)) << bad;
}

TEST(NamesParse, ProtocolLines) {
  auto p = kernel::parse_protocol_line("ipv6-icmp 58\tIPv6-ICMP\t# ICMP for IPv6");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "ipv6-icmp");
  EXPECT_EQ(p->number, 58);
  EXPECT_EQ(p->aliases, "IPv6-ICMP");
  EXPECT_EQ(kernel::parse_protocol_line("reserved 255 Reserved")->number, 255);
  for (const char* bad : {"", "# icmp 1 ICMP", "icmp", "icmp x1", "icmp 1x", "icmp 256", "icmp -1", "icmp 99999999999999999999"})
    EXPECT_FALSE(kernel::parse_protocol_line(bad)) << bad;
}

TEST(NamesParse, PasswdLines) {
  auto u = kernel::parse_passwd_line("daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->name, "daemon");
  EXPECT_EQ(u->uid, 1u);
  EXPECT_EQ(kernel::parse_passwd_line("nobody:x:4294967295:1::/:")->uid, 4294967295u);
  for (const char* bad : {"", "root", "root:x", "root:x:0", ":x:0:0::/:", "root:x::0::/:", "root:x:-1:0::/:",
                          "root:x:4294967296:0::/:", "root:x:0x1:0::/:"})
    EXPECT_FALSE(kernel::parse_passwd_line(bad)) << bad;
}

TEST(NamesParse, HostLinesKeepCanonicalAddresses) {
  auto h = parse_host_line("127.0.1.1\tbox.example.org box  # this host");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->address, "127.0.1.1");
  EXPECT_EQ(h->name, "box.example.org");
  EXPECT_EQ(h->aliases, "box");
  // As the socket tables print it (inet_ntop), so joins and lookups match.
  EXPECT_EQ(parse_host_line("0:0:0:0:0:0:0:1 ip6-localhost")->address, "::1");
  EXPECT_EQ(parse_host_line("FE80::0001 router")->address, "fe80::1");
  for (const char* bad : {"", "127.0.0.1", "# 127.0.0.1 localhost", "localhost 127.0.0.1", "300.1.1.1 x",
                          "fe80::1%eth0 x", "1.2.3 x"})
    EXPECT_FALSE(parse_host_line(bad)) << bad;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char p[] = "/tmp/netsql-names-XXXXXX";
    int fd = mkstemp(p);
    path = p;
    if (fd >= 0) {
      EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
      close(fd);
    }
  }
  ~TempFile() { unlink(path.c_str()); }
};

TEST(NamesRead, LongLinesAndALastLineWithoutNewline) {
  std::string aliases(3000, 'a');
  TempFile f("# header\nfirst 1/tcp " + aliases + "\n\nlast 2/udp");
  kernel::ServicesReader r(f.path.c_str());
  auto a = r.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->aliases, aliases);
  auto b = r.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "last");
  EXPECT_FALSE(r.next());
  kernel::HostsReader missing("/nonexistent/hosts");
  EXPECT_FALSE(missing.next());
}

TEST(NamesLookup, FirstEntryWinsAndAddressesMatchInAnyForm) {
  TempFile services("domain 53/udp\nfirst 7/tcp\nsecond 7/tcp\necho 7/udp\n");
  auto s = kernel::ServiceNames::load(services.path.c_str());
  ASSERT_TRUE(s.find(7, "tcp"));
  EXPECT_EQ(*s.find(7, "tcp"), "first");
  EXPECT_EQ(*s.find(7, "udp"), "echo");
  EXPECT_FALSE(s.find(53, "tcp"));
  EXPECT_FALSE(s.find(7 + 65536, "tcp"));
  EXPECT_FALSE(s.find(-65529, "tcp"));
  TempFile hosts("10.0.0.1 one\n10.0.0.1 again\n::1 six\n");
  auto h = kernel::HostNames::load(hosts.path.c_str());
  EXPECT_EQ(*h.find("10.0.0.1"), "one");
  EXPECT_EQ(*h.find("0::0:1"), "six");
  EXPECT_FALSE(h.find("10.0.0.2"));
  EXPECT_FALSE(h.find("not an address"));
  TempFile protocols("icmp 1 ICMP\nagain 1\nudp 17 UDP\n");
  auto p = kernel::ProtocolNames::load(protocols.path.c_str());
  EXPECT_EQ(*p.find(1), "icmp");
  EXPECT_EQ(*p.find(17), "udp");
  EXPECT_FALSE(p.find(2));
  EXPECT_FALSE(p.find(1 + 256));
  EXPECT_FALSE(p.find(-255));
}

// The first field of the first line of `file` whose field `key_field` is
// `key` (awk: an oracle independent of our parser); `otherwise` if none.
std::string awk_first(const char* file, int key_field, const std::string& key, int field, const std::string& otherwise) {
  std::string out = run(std::string("awk '!/^#/ && $") + std::to_string(key_field) + " == \"" + key + "\" {print $" +
                        std::to_string(field) + "; exit}' " + file);
  return out.empty() ? otherwise : out.substr(0, out.size() - 1);
}

TEST(NamesSql, FunctionsAnswerFromTheFilesAndPassUnknownValuesThrough) {
  Db db;
  for (int port : {22, 53, 80, 443, 4242}) {
    for (std::string proto : {"tcp", "udp"}) {
      std::string want = awk_first("/etc/services", 2, std::to_string(port) + "/" + proto, 1, std::to_string(port));
      auto rows = db.rows("SELECT service_name(" + std::to_string(port) + ", '" + proto + "')");
      EXPECT_EQ(rows.at(0).at(0), want) << port << "/" << proto;
    }
  }
  for (std::string addr : {"127.0.0.1", "::1", "192.0.2.77"})
    EXPECT_EQ(db.rows("SELECT host_name('" + addr + "')").at(0).at(0), awk_first("/etc/hosts", 1, addr, 2, addr)) << addr;
  // Unknown, out of range, NULL and non-address values come back unchanged.
  auto row = db.rows("SELECT service_name(65536, 'tcp'), service_name(-1, 'tcp'), service_name(NULL, 'tcp'), "
                     "service_name(22, NULL), host_name(NULL), host_name('no address'), typeof(service_name(4242, 'tcp'))")
                 .at(0);
  EXPECT_EQ(row, (Row{"65536", "-1", std::nullopt, "22", std::nullopt, "no address", "integer"}));
  EXPECT_NE(db.error("SELECT service_name(22)"), "");  // two arguments
  for (int number : {1, 6, 58, 200})
    EXPECT_EQ(db.rows("SELECT protocol_name(" + std::to_string(number) + ")").at(0).at(0),
              awk_first("/etc/protocols", 2, std::to_string(number), 1, std::to_string(number)))
        << number;
  EXPECT_EQ(db.rows("SELECT protocol_name(NULL), protocol_name(257)").at(0), (Row{std::nullopt, "257"}));
  for (int uid : {0, 65534, 4242}) {
    std::string named = run("awk -F: '$3 == " + std::to_string(uid) + " {printf \"%s\", $1; exit}' /etc/passwd");
    EXPECT_EQ(db.rows("SELECT user_name(" + std::to_string(uid) + ")").at(0).at(0), named.empty() ? std::to_string(uid) : named)
        << uid;
  }
  // A value that is not an integer has no name (never the name of 0); text
  // that reads as an integer (a CSV import's) has the integer's.
  EXPECT_EQ(db.rows("SELECT user_name(''), user_name('nobody'), user_name(0.9), protocol_name('x'), protocol_name(0.5), "
                    "service_name('', 'tcp'), service_name(22.5, 'tcp'), user_name('0') = user_name(0), "
                    "protocol_name('6') = protocol_name(6)")
                .at(0),
            (Row{"", "nobody", "0.9", "x", "0.5", "", "22.5", "1", "1"}));
}

TEST(NamesSql, TablesListTheFiles) {
  Db db;
  std::string awk_services = run("awk '!/^#/ && NF >= 2 && $2 ~ /^[0-9]+\\/./ {n++} END {print n+0}' /etc/services");
  EXPECT_EQ(std::to_string(db.scalar("SELECT count(*) FROM services")) + "\n", awk_services);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM services WHERE port < 0 OR port > 65535 OR name IS NULL OR protocol IS NULL"), 0);
  if (awk_services != "0\n") {
    auto first = db.rows("SELECT name, port || '/' || protocol FROM services LIMIT 1").at(0);
    EXPECT_EQ(*first[1], awk_first("/etc/services", 1, *first[0], 2, ""));
  }
  std::string awk_hosts = run("awk '!/^#/ && NF >= 2 {n++} END {print n+0}' /etc/hosts");
  EXPECT_EQ(std::to_string(db.scalar("SELECT count(*) FROM hosts")) + "\n", awk_hosts);
  // host_name() is the first name the table gives for an address.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hosts h WHERE host_name(h.address) != "
                      "(SELECT name FROM hosts WHERE address = h.address LIMIT 1)"),
            0);
}

}  // namespace
}  // namespace netsql::test
