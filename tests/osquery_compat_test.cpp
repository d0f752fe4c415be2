// osquery compatibility: `netsql schedule` reads a config in the shape
// osquery documents (options, schedule, inline and file packs, platform,
// shard, denylist, decorators) and the compat views answer osquery's pack
// queries, unchanged, with the rows of netsql's own tables.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "history.h"
#include "osquery_config.h"
#include "schedule.h"
#include "support.h"

namespace netsql::test {
namespace {

using shell::ScheduleConfig;
using nlohmann::json;

bool has_notice(const ScheduleConfig& c, const std::string& part) {
  for (const auto& n : c.notices)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

TEST(OsqueryConfig, TheMachineShardIsTheFirstByteOfTheHostNamesSha1Scaled) {
  EXPECT_EQ(shell::sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(shell::sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  // Two blocks: the padding does not fit after 56 bytes.
  EXPECT_EQ(shell::sha1_hex(std::string(56, 'a')), run("printf %s " + std::string(56, 'a') + " | sha1sum | cut -c1-40").substr(0, 40));
  for (const char* host : {"web-01", "db.example.com", "localhost", "web-08"}) {
    int first_byte = std::stoi(run(std::string("printf %s ") + host + " | sha1sum | cut -c1-2"), nullptr, 16);
    EXPECT_EQ(shell::osquery_machine_shard(host), first_byte * 100 / 255) << host;
  }
}

TEST(OsqueryConfig, PlatformsRunHereAsOsqueryDecidesOnLinux) {
  for (const char* yes : {"", "null", "linux", "posix", "ubuntu", "centos", "all", "any", "darwin,linux"})
    EXPECT_TRUE(shell::osquery_platform_matches(yes)) << yes;
  for (const char* no : {"darwin", "windows", "freebsd"}) EXPECT_FALSE(shell::osquery_platform_matches(no)) << no;
}

// A config as osquery documents it, with comments, a file pack and an
// inline pack; which host runs what follows from its shard.
TEST(OsqueryConfig, OptionsScheduleInlineAndFilePacksAndDecoratorsAreAccepted) {
  TempDir dir;
  const std::string host = "web-05";  // shard 20: sha1 starts 0x33
  ASSERT_EQ(shell::osquery_machine_shard(host), 20);
  std::ofstream(dir.path + "/network.conf") << R"({
    // a pack file, as osquery's packs/ directory holds them
    "platform": "linux", "version": "1.4.5",
    "queries": {
      "listening_ports": {"query": "select * from listening_ports;", "interval": "3600", "platform": "posix",
                          "version": "1.4.5", "description": "listeners", "value": "find backdoors"},
      "mac_only": {"query": "select 1 as x;", "interval": 60, "platform": "darwin"}
    }
  })";
  const std::string text = R"({
    # osquery strips comment lines
    "options": {"host_identifier": "specified", "specified_identifier": "edge-7", "schedule_epoch": "9",
                "logger_event_type": false, "schedule_default_interval": 120, "disable_events": true,
                "config_refresh": 60},
    "schedule": {
      "arp": {"query": "select * from arp_cache;", "interval": 30, "removed": false, "denylist": false},
      "few_hosts": {"query": "select 1 as x;", "interval": 30, "shard": 10},
      "most_hosts": {"query": "select 1 as x;", "shard": 90, "snapshot": true}
    },
    "packs": {
      "net-file": "network.conf",
      "inline": {"shard": 50, "discovery": ["select pid from processes where name = 'sshd'"],
                 "queries": {"sockets": {"query": "select pid from process_open_sockets;", "interval": 10}}},
      "windows": {"platform": "windows", "queries": {"w": {"query": "select 1 as x;"}}}
    },
    "decorators": {"load": ["select 'a' as rack"], "always": ["select 'b' as t"], "interval": {"3600": ["select 'c' as u"]}},
    "file_paths": {"etc": ["/etc/%%"]}
  })";
  ScheduleConfig c = shell::parse_schedule(text, dir.path + "/osquery.conf", host);
  std::vector<std::string> names, log_names;
  for (const auto& q : c.queries) {
    names.push_back(q.spec.name);
    log_names.push_back(q.spec.log_or_name());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"arp", "most_hosts", "pack_inline_sockets", "pack_net_file_listening_ports"}));
  EXPECT_EQ(log_names,
            (std::vector<std::string>{"arp", "most_hosts", "pack_inline_sockets", "pack_net-file_listening_ports"}));
  ASSERT_EQ(c.queries.size(), 4u);
  EXPECT_EQ(c.queries[0].interval_s, 30);
  EXPECT_FALSE(c.queries[0].spec.removed);
  EXPECT_TRUE(c.queries[0].spec.differential);
  EXPECT_EQ(c.queries[1].interval_s, 120);  // schedule_default_interval
  EXPECT_FALSE(c.queries[1].spec.differential);
  EXPECT_EQ(c.queries[2].pack, "inline");
  EXPECT_EQ(c.queries[3].interval_s, 3600);  // "3600", a string, as osquery's packs write it
  EXPECT_EQ(c.discovery, (std::map<std::string, std::vector<std::string>>{
                             {"inline", {"select pid from processes where name = 'sshd'"}}}));
  EXPECT_EQ(c.host, "edge-7");
  EXPECT_EQ(c.extras.epoch, 9);
  EXPECT_TRUE(c.extras.batch);
  EXPECT_EQ(c.decorators_load, std::vector<std::string>{"select 'a' as rack"});
  EXPECT_EQ(c.decorators_always, std::vector<std::string>{"select 'b' as t"});
  ASSERT_EQ(c.decorators_interval.size(), 1u);
  EXPECT_EQ(c.decorators_interval[0].first, 3600);
  // Every option, key and query left out is named.
  EXPECT_TRUE(has_notice(c, "options \"disable_events\""));
  EXPECT_TRUE(has_notice(c, "options \"config_refresh\""));
  EXPECT_TRUE(has_notice(c, "\"file_paths\" is osquery's"));
  EXPECT_TRUE(has_notice(c, "query 'few_hosts': shard 10 leaves out this host (its shard is 20)"));
  EXPECT_TRUE(has_notice(c, "query 'pack_net-file_mac_only': platform \"darwin\" is not linux"));
  EXPECT_TRUE(has_notice(c, "pack 'windows': platform \"windows\" is not linux"));
  EXPECT_EQ(c.notices.size(), 6u);
  // Other hosts' shards take other queries: "web-08" is shard 2, "web-07" 96.
  ASSERT_EQ(shell::osquery_machine_shard("web-08"), 2);
  ScheduleConfig low = shell::parse_schedule(text, dir.path + "/osquery.conf", "web-08");
  EXPECT_EQ(low.queries.size(), 5u);
  EXPECT_FALSE(has_notice(low, "few_hosts"));
  ASSERT_EQ(shell::osquery_machine_shard("web-07"), 96);
  ScheduleConfig high = shell::parse_schedule(text, dir.path + "/osquery.conf", "web-07");
  EXPECT_EQ(high.queries.size(), 2u);  // arp and the file pack's listening_ports
  EXPECT_TRUE(has_notice(high, "pack 'inline': shard 50 leaves out this host (its shard is 96)"));
  EXPECT_TRUE(high.discovery.empty());
}

TEST(OsqueryConfig, BadShapesAreRefusedNamingTheKeyAndThePack) {
  TempDir dir;
  const std::string path = dir.path + "/osquery.conf";
  auto error = [&](const std::string& text) {
    try {
      shell::parse_schedule(text, path, "h");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error(R"({"options": {"schedule_epoch": "soon"}, "schedule": {}})"),
            path + ": options \"schedule_epoch\" must be a non-negative integer");
  EXPECT_EQ(error(R"({"options": {"host_identifier": "specified"}, "schedule": {}})"),
            path + ": options \"host_identifier\" is specified but \"specified_identifier\" is missing");
  EXPECT_EQ(error(R"({"options": [], "schedule": {}})"), path + ": \"options\" must be an object");
  EXPECT_EQ(error(R"({"schedule": {"q": {"query": "select 1", "shard": 101}}})"),
            path + ": query 'q': \"shard\" must be an integer from 0 to 100");
  EXPECT_EQ(error(R"({"schedule": {"q": {"query": "select 1", "interval": "hourly"}}})"),
            path + ": query 'q': \"interval\" must be a number of seconds from 0.001 to 31622400");
  EXPECT_EQ(error(R"({"packs": {"p": {"queries": {}, "owner": "me"}}})"),
            path + ": pack 'p': unknown key \"owner\" (expected queries, platform, version, shard, discovery, oncall)");
  EXPECT_EQ(error(R"({"packs": {"p": {"discovery": "select 1"}}})"),
            path + ": pack 'p': missing \"queries\": an object of named queries");
  EXPECT_EQ(error(R"({"packs": {"p": "missing.conf"}})"),
            path + ": pack 'p': cannot open " + dir.path + "/missing.conf: No such file or directory");
  std::ofstream(dir.path + "/broken.conf") << "{\"queries\": ";
  EXPECT_EQ(error(R"({"packs": {"p": "broken.conf"}})"), path + ": pack 'p': " + dir.path + "/broken.conf is not valid JSON");
  EXPECT_EQ(error(R"({"packs": {"a-b": {"queries": {"q": {"query": "select 1"}}}, "a_b": {"queries": {"q": {"query": "select 1"}}}}})"),
            path + ": queries 'pack_a-b_q' and 'pack_a_b_q' would share the history table pack_a_b_q; rename one");
  EXPECT_EQ(error(R"({"decorators": {"interval": {"hourly": ["select 1"]}}, "schedule": {}})"),
            path + ": decorators \"interval\" key \"hourly\" must be seconds from 1 to 31622400");
  EXPECT_EQ(error(R"({"bogus": 1, "schedule": {}})"),
            path + ": unknown key \"bogus\" (expected schedule, packs, options, db, log, host_identifier, decorators, "
                   "epoch, log_format)");
}

// osquery's incident-response pack queries, text unchanged, against a
// world built in a private namespace: the views give netsql's rows in
// osquery's columns.
class OsqueryViews : public NetnsTest {};

TEST_F(OsqueryViews, IncidentResponseQueriesReturnTheRowsOfTheNativeTables) {
  int listener = tcp_listener("127.0.0.1", 0);
  int client = tcp_connect("127.0.0.1", local_port(listener));
  int server = tcp_accept(listener);
  int udp = udp_socket("::1", 0);
  sh("ip link add osq0 type veth peer name osq1 && ip link set osq1 up && ip link set osq0 up && ip addr add 10.9.8.1/24 dev osq0 && "
     "ip neigh add 10.9.8.7 lladdr 02:00:00:00:00:07 dev osq0 nud permanent && "
     "ip neigh add 10.9.8.8 lladdr 02:00:00:00:00:08 dev osq0 nud stale");
  Db db;
  EXPECT_EQ(db.rows("SELECT netsql_osquery_compat()"),
            (std::vector<Row>{{"listening_ports, process_open_sockets, arp_cache, routes"}}));
  const std::string pid = std::to_string(getpid());
  const std::string lport = std::to_string(local_port(listener)), cport = std::to_string(local_port(client)),
                    uport = std::to_string(local_port(udp));
  // "listening_ports": select * from listening_ports;
  auto listening = db.rows("select * from listening_ports;");
  EXPECT_EQ(listening.size(), 2u);
  const std::string ns = run("stat -L -c %i /proc/self/ns/net").substr(0, run("stat -L -c %i /proc/self/ns/net").size() - 1);
  EXPECT_EQ(db.rows("select * from listening_ports where protocol = 6"),
            (std::vector<Row>{{pid, lport, "6", "2", "127.0.0.1", std::to_string(listener), std::to_string(inode_of(listener)), "", ns}}));
  EXPECT_EQ(db.rows("select pid, port, protocol, family, address, fd, socket from listening_ports where protocol = 17"),
            (std::vector<Row>{{pid, uport, "17", "10", "::1", std::to_string(udp), std::to_string(inode_of(udp))}}));
  // The same as netsql's own tables say.
  EXPECT_EQ(db.rows("select port, address from listening_ports order by protocol"),
            db.rows("select local_port, local_address from main.tcp_sockets where state = 'LISTEN' union all "
                    "select local_port, local_address from main.udp_sockets"));
  // "open_sockets": connected sockets and unix paths, per process.
  auto open = db.rows(
      "select distinct pid, family, protocol, local_address, local_port, remote_address, remote_port, path from "
      "process_open_sockets where path <> '' or remote_address <> '';");
  std::set<Row> inet;
  for (const auto& r : open)
    if (r[1] != "1") inet.insert(r);
  EXPECT_EQ(inet, (std::set<Row>{{pid, "2", "6", "127.0.0.1", cport, "127.0.0.1", lport, ""},
                                 {pid, "2", "6", "127.0.0.1", lport, "127.0.0.1", cport, ""},
                                 {pid, "2", "6", "127.0.0.1", lport, "0.0.0.0", "0", ""},
                                 {pid, "10", "17", "::1", uport, "::", "0", ""}}));
  EXPECT_EQ(db.rows("select state from process_open_sockets where protocol = 6 order by state"),
            (std::vector<Row>{{"ESTABLISHED"}, {"ESTABLISHED"}, {"LISTEN"}}));
  EXPECT_EQ(db.rows("select state from process_open_sockets where protocol = 17"), (std::vector<Row>{{""}}));  // TCP only
  EXPECT_EQ(db.types("select pid, fd, socket, family, protocol, local_port from process_open_sockets limit 1"),
            (std::vector<std::string>{"INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER"}));
  // "arp_cache": select * from arp_cache; (IPv4, no NOARP entries; permanent as '1'/'0')
  EXPECT_EQ(db.rows("select * from arp_cache order by address;"),
            (std::vector<Row>{{"10.9.8.7", "02:00:00:00:00:07", "osq0", "1"}, {"10.9.8.8", "02:00:00:00:00:08", "osq0", "0"}}));
  // routes: osquery's columns over ours (main.routes is still the table).
  EXPECT_EQ(db.rows("select destination, netmask, gateway, source, interface, type from routes where interface = 'osq0' "
                    "and destination like '10.%' order by destination"),
            (std::vector<Row>{{"10.9.8.0", "24", "", "10.9.8.1", "osq0", "gateway"},
                              {"10.9.8.1", "32", "", "10.9.8.1", "osq0", "local"},
                              {"10.9.8.255", "32", "", "10.9.8.1", "osq0", "broadcast"}}));
  EXPECT_EQ(db.rows("select type from routes where destination = 'ff00::' and interface = 'osq0'"),
            (std::vector<Row>{{"other"}}));  // multicast: none of osquery's four
  EXPECT_EQ(db.scalar("select count(*) from routes"), db.scalar("select count(*) from main.routes"));
  EXPECT_EQ(db.error("select table_name from routes"), "no such column: table_name");
  for (int fd : {listener, client, server, udp}) close(fd);
}

TEST(OsqueryViewsCommand, TheShellSwitchCreatesTheViewsAndTheyAreTemp) {
  std::string out = run(std::string(NETSQL_SHELL_PATH) +
                        " --osquery-compat \"SELECT type, name FROM sqlite_temp_master ORDER BY name\" 2>&1");
  EXPECT_EQ(out, "type,name\r\nview,arp_cache\r\nview,listening_ports\r\nview,process_open_sockets\r\nview,routes\r\n");
  out = run(std::string(NETSQL_SHELL_PATH) + " \"SELECT count(*) FROM listening_ports\" 2>&1");
  EXPECT_NE(out.find("no such table: listening_ports"), std::string::npos) << out;
}

// The whole path: an osquery config whose pack names osquery-only tables
// (a discovery query on os_version, a query on users) runs its network
// queries through the views, says what it skipped, and logs under the
// pack's names.
TEST(OsquerySchedule, AnOsqueryConfigRunsItsNetworkQueriesAndNamesWhatItSkips) {
  TempDir dir;
  std::ofstream(dir.path + "/osquery.conf") << R"({
    "options": {"logger_path": ")" << dir.path << R"(", "schedule_epoch": 3, "worker_threads": 2,
                "host_identifier": "specified", "specified_identifier": "edge-7"},
    "decorators": {"load": ["select 'r1' as rack"], "interval": {"3600": ["select 'v2' as build"]}},
    "schedule": {"who": {"query": "select username from users;", "interval": 1}},
    "packs": {
      "needs-os": {"discovery": ["select * from os_version where platform = 'ubuntu';"],
                   "queries": {"q": {"query": "select 1 as x;", "interval": 1}}},
      "net-watch": {"queries": {"listening_ports": {"query": "select * from listening_ports;", "interval": "0.05", "snapshot": true}}}
    }
  })";
  int listener = tcp_listener("127.0.0.1", 0);
  pid_t pid = fork();
  if (pid == 0) {
    int out = open((dir.path + "/schedule.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execl(NETSQL_SHELL_PATH, "netsql", "schedule", "--osquery-compat", "--db", (dir.path + "/h.db").c_str(), "--config",
          (dir.path + "/osquery.conf").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string log = dir.path + "/osqueryd.results.log";  // osquery's name under logger_path
  std::vector<json> lines;
  auto read_log = [&] {
    lines.clear();
    std::istringstream in(slurp(log));
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line, nullptr, false));
    return lines.size() >= 2;
  };
  EXPECT_TRUE(wait_until(read_log, 30)) << slurp(dir.path + "/schedule.out");
  kill(pid, SIGTERM);
  int rc = 0;
  waitpid(pid, &rc, 0);
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << rc;
  const std::string out = slurp(dir.path + "/schedule.out");
  EXPECT_NE(out.find("netsql schedule: options \"worker_threads\": not an osquery option netsql implements; ignored\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("netsql schedule: pack 'needs-os': discovery query 'select * from os_version where platform = "
                     "'ubuntu';' failed: no such table: os_version; its queries are skipped\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("netsql schedule: query 'who' needs a table netsql does not have (users); skipped\n"), std::string::npos)
      << out;
  ASSERT_GE(lines.size(), 2u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& j = lines[i];
    ASSERT_TRUE(j.is_object()) << i;
    EXPECT_EQ(j["name"], "pack_net-watch_listening_ports");
    EXPECT_EQ(j["action"], "snapshot");
    EXPECT_EQ(j["epoch"], 3);
    EXPECT_EQ(j["hostIdentifier"], "edge-7");
    EXPECT_EQ(j["decorations"]["rack"], "r1");
    EXPECT_EQ(j["decorations"]["build"], "v2");
    EXPECT_EQ(j["counter"], static_cast<int64_t>(i));
    ASSERT_TRUE(j["snapshot"].is_array());
    bool found = false;
    for (const auto& row : j["snapshot"])
      found |= row["port"] == std::to_string(local_port(listener)) && row["protocol"] == "6" && row["family"] == "2";
    EXPECT_TRUE(found) << j.dump();
  }
  // The history table carries the pack's name as an identifier.
  EXPECT_EQ(run("sqlite3 " + dir.path + "/h.db 'SELECT count(*) > 0 FROM pack_net_watch_listening_ports'"), "1\n");
  close(listener);
  // Without --osquery-compat, the osquery table is a config error, as any unknown table.
  std::string r = run(std::string(NETSQL_SHELL_PATH) + " schedule --db " + dir.path + "/h2.db " + dir.path +
                      "/osquery.conf 2>&1 </dev/null");
  EXPECT_NE(r.find("Error: " + dir.path + "/osquery.conf: query 'who' does not compile: no such table: users"),
            std::string::npos) << r;
}

// osquery's counter (how many earlier runs the catalog holds) is kept in
// memory between a History's runs, not counted again each run: it must
// still equal the catalog's count, also once retention deleted catalog
// rows and after a run that failed.
TEST(OsqueryLog, TheCounterIsTheCatalogsCountAcrossRetentionAndFailures) {
  TempDir dir;
  shell::History h(dir.path + "/h.db");
  shell::QuerySpec q;
  q.name = "flows";
  q.stream = true;
  q.retention.max_age_s = 1;
  auto catalog = [&] {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h.session().db(), "SELECT count(*) FROM snapshots WHERE name = 'flows'", -1, &st, nullptr);
    sqlite3_step(st);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  // Every run so far is older than max_age_s, as far as the history can tell.
  auto age = [&] {
    ASSERT_EQ(sqlite3_exec(h.session().db(),
                           "UPDATE flows SET snapshot_time = snapshot_time - 2000;"
                           "UPDATE snapshots SET time = time - 2000 WHERE name = 'flows'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  };
  shell::StreamBatch batch;
  batch.rows.push_back({shell::Value{int64_t{1}}});
  auto run = [&] {
    std::ostringstream log;
    int64_t before = catalog();
    h.append(q, {"x"}, batch, &log);
    json line = json::parse(log.str());
    EXPECT_EQ(line["counter"], before);
    return line["counter"].get<int64_t>();
  };
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(run(), 2);
  age();
  EXPECT_EQ(run(), 3);  // counted before its retention deleted the three
  EXPECT_EQ(run(), 1);
  // A run that fails commits nothing: the next one counts what is there.
  shell::StreamBatch wrong;
  wrong.rows.push_back({shell::Value{int64_t{1}}, shell::Value{int64_t{2}}});
  EXPECT_THROW(h.append(q, {"x"}, wrong), std::runtime_error);
  ASSERT_EQ(sqlite3_exec(h.session().db(), "DELETE FROM snapshots WHERE name = 'flows' AND id = (SELECT min(id) FROM snapshots)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(run(), 1);
  // Another writer's run of the same query (a `netsql snapshot`) is counted.
  ASSERT_EQ(sqlite3_exec(h.session().db(),
                         "INSERT INTO snapshots (name, time, mode, rows, added, removed, duration_ms) "
                         "VALUES ('flows', CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'snapshot', 0, 0, 0, 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(run(), 3);
  // Retention found the aged rows through the catalog.
  age();
  run();
  EXPECT_EQ(catalog(), 1);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h.session().db(), "SELECT count(*) FROM flows", -1, &st, nullptr);
  sqlite3_step(st);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 1);
  sqlite3_finalize(st);
}

}  // namespace
}  // namespace netsql::test
