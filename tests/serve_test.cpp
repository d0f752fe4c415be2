// Prometheus metrics: the exposition writer's escaping, the collector's
// error, timeout and cardinality behaviour, `netsql serve` over HTTP, and
// real engines as oracles: promtool checks every exposition, Prometheus
// scrapes `netsql serve` in a private namespace, node_exporter's textfile
// collector serves `netsql snapshot --prometheus`.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "metrics.h"
#include "serve.h"
#include "support.h"

namespace netsql::test {
namespace {

using shell::Collector;
using shell::parse_metrics_config;

void spit(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A child process (netsql, prometheus, node_exporter) with its output in
// `log`; killed and reaped when the test ends.
class Child {
 public:
  Child(const std::vector<std::string>& argv, std::string log) : log_(std::move(log)) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) stop(SIGKILL);
  }
  // Sends `sig`, waits; the exit status, or 128 + the signal.
  int stop(int sig = SIGTERM) {
    kill(pid_, sig);
    int rc = 0;
    waitpid(pid_, &rc, 0);
    pid_ = -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  }
  // Waits for the process to exit by itself; its exit status.
  int wait() {
    int rc = 0;
    waitpid(pid_, &rc, 0);
    pid_ = -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  }
  std::string output() const { return slurp(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// One HTTP exchange with 127.0.0.1:port: the whole response, or "" when
// nothing listens.
std::string http(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string get(int port, const std::string& path, const std::string& headers = "") {
  return http(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + headers + "\r\n");
}

std::string body(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// promtool's verdict on a text exposition: "" when it accepts it.
std::string promtool_problems(const std::string& exposition) {
  TempDir dir;
  spit(dir.path + "/in.prom", exposition);
  std::string out = run("promtool check metrics < " + dir.path + "/in.prom 2>&1; echo \"exit $?\"");
  return out == "exit 0\n" ? "" : out;
}

std::string scrape(const std::string& config_json, bool openmetrics, std::string* errors = nullptr) {
  shell::Session s(":memory:");
  Collector c(s, parse_metrics_config(config_json, "test.json"));
  std::ostringstream err;
  std::string out = c.scrape(openmetrics, err);
  if (errors) *errors = err.str();
  return out;
}

// netsql serve on `port` in this namespace, ready (its listener is up).
struct Serve {
  TempDir dir;
  Child child;
  explicit Serve(const std::vector<std::string>& args)
      : child(with(args), dir.path + "/serve.log") {}
  static std::vector<std::string> with(std::vector<std::string> args) {
    args.insert(args.begin(), {NETSQL_SHELL_PATH, "serve"});
    return args;
  }
  bool ready() {
    return wait_until([&] { return child.output().find("listening on") != std::string::npos; }, 30);
  }
};

TEST(Exposition, LabelValuesEscapeBackslashQuoteNewlineAndRepairUtf8) {
  EXPECT_EQ(shell::escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(shell::escape_label_value("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(shell::escape_label_value("x\xFFy\xC3"), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(shell::escape_label_value("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong NUL
  EXPECT_EQ(shell::escape_label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(Exposition, HelpEscapesBackslashAndNewlineAndQuotesOnlyInOpenMetrics) {
  EXPECT_EQ(shell::escape_help("a\\b\nc\"d", false), "a\\\\b\\nc\"d");
  EXPECT_EQ(shell::escape_help("a\\b\nc\"d", true), "a\\\\b\\nc\\\"d");
}

TEST(Exposition, NamesFollowThePrometheusRules) {
  EXPECT_TRUE(shell::valid_metric_name("netsql_a:b_1"));
  EXPECT_FALSE(shell::valid_metric_name("1abc"));
  EXPECT_FALSE(shell::valid_metric_name("a-b"));
  EXPECT_FALSE(shell::valid_metric_name(""));
  EXPECT_TRUE(shell::valid_label_name("state_1"));
  EXPECT_FALSE(shell::valid_label_name("__name__"));
  EXPECT_FALSE(shell::valid_label_name("a:b"));
}

const char* kAwkward = R"({"metrics": [
  {"name": "netsql_test_awkward", "help": "Awkward \\ labels\nand \"quotes\".", "type": "gauge",
   "query": "SELECT 'say \"hi\"' AS quote, 'C:\\dir\\' AS path, 'two' || char(10) || 'lines' AS nl, 'caf' || char(233) || ' ' || char(8364) AS utf8, 'x' AS d, 1.5 AS value"},
  {"name": "netsql_test_bytes_total", "type": "counter", "values": ["rx", "tx"],
   "query": "SELECT 'eth0' AS device, 10 AS rx, 20 AS tx"}
]})";

TEST(Collector, AwkwardLabelValuesAreEscapedAndPromtoolAcceptsThem) {
  std::string text = scrape(kAwkward, false);
  EXPECT_NE(text.find("# HELP netsql_test_awkward Awkward \\\\ labels\\nand \"quotes\".\n"), std::string::npos) << text;
  EXPECT_NE(text.find("netsql_test_awkward{quote=\"say \\\"hi\\\"\",path=\"C:\\\\dir\\\\\",nl=\"two\\nlines\","
                      "utf8=\"caf\xC3\xA9 \xE2\x82\xAC\",d=\"x\"} 1.5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE netsql_test_bytes_rx_total counter\nnetsql_test_bytes_rx_total{device=\"eth0\"} 10\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("netsql_test_bytes_tx_total{device=\"eth0\"} 20\n"), std::string::npos) << text;
  EXPECT_EQ(promtool_problems(text), "");
}

TEST(Collector, OpenMetricsNamesCounterFamiliesWithoutTotalAndEndsWithEof) {
  std::string om = scrape(kAwkward, true);
  EXPECT_NE(om.find("# TYPE netsql_test_bytes_rx counter\nnetsql_test_bytes_rx_total{device=\"eth0\"} 10\n"),
            std::string::npos)
      << om;
  EXPECT_NE(om.find("# HELP netsql_test_awkward Awkward \\\\ labels\\nand \\\"quotes\\\".\n"), std::string::npos) << om;
  EXPECT_TRUE(om.ends_with("\n# EOF\n")) << om;
}

TEST(Collector, ANonNumericValueFailsItsQueryOnlyAndSaysWhich) {
  std::string errors;
  std::string text = scrape(R"({"metrics": [
    {"name": "bad", "query": "SELECT 'a' AS k, 1 AS value UNION ALL SELECT 'b', 'lots'"},
    {"name": "good", "query": "SELECT 7 AS value"}]})",
                            false, &errors);
  EXPECT_EQ(errors, "metric 'bad': value column \"value\" is not a number in row 2: 'lots'\n");
  EXPECT_EQ(text.find("bad{"), std::string::npos) << text;  // none of its samples
  EXPECT_NE(text.find("\ngood 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("netsql_query_error{query=\"bad\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("netsql_query_error{query=\"good\"} 0\n"), std::string::npos) << text;
  EXPECT_EQ(promtool_problems(text), "");
}

TEST(Collector, SeriesBeyondTheLimitAreDroppedAndCounted) {
  std::string text = scrape(R"({"max_series": 3, "metrics": [
    {"name": "many", "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i AS id, i AS value FROM n"},
    {"name": "few", "max_series": 20, "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i AS id, i AS value FROM n"}]})",
                            false);
  EXPECT_NE(text.find("many{id=\"3\"} 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("many{id=\"4\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("few{id=\"10\"} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("netsql_query_dropped_series{query=\"many\"} 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("netsql_query_dropped_series{query=\"few\"} 0\n"), std::string::npos) << text;
}

TEST(Collector, AQueryPastItsTimeoutIsInterruptedAndReported) {
  std::string errors;
  std::string text = scrape(R"({"timeout_s": 0.05, "metrics": [
    {"name": "forever", "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) AS value FROM n"},
    {"name": "quick", "query": "SELECT 1 AS value"}]})",
                            false, &errors);
  EXPECT_EQ(errors, "metric 'forever': timed out after 0.05 s\n");
  EXPECT_NE(text.find("netsql_query_error{query=\"forever\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nquick 1\n"), std::string::npos) << text;
}

TEST(Collector, BadConfigsAreRefusedNamingTheProblem) {
  auto error = [](const std::string& json) {
    try {
      shell::Session s(":memory:");
      Collector c(s, parse_metrics_config(json, "m.json"));
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error("{"), "m.json: not valid JSON: [json.exception.parse_error.101] parse error at line 1, column 2: "
                        "syntax error while parsing object key - unexpected end of input; expected string literal");
  EXPECT_EQ(error(R"({"metric": []})"), "m.json: unknown key \"metric\" (expected metrics, timeout_s, max_series, defaults)");
  EXPECT_EQ(error(R"({"metrics": []})"), "m.json: no metrics: give \"metrics\" or \"defaults\": true");
  EXPECT_EQ(error(R"({"max_series": 0, "metrics": []})"), "m.json: \"max_series\" must be an integer from 1 to 1000000");
  EXPECT_EQ(error(R"({"timeout_s": "1", "metrics": []})"),
            "m.json: \"timeout_s\" must be a number of seconds greater than 0 and at most 3600");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a-b", "query": "SELECT 1 AS value"}]})"),
            "m.json: metric 'a-b': \"a-b\" is not a valid metric name (letters, digits, _ and :, not starting with a digit)");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a", "type": "histogram", "query": "SELECT 1 AS value"}]})"),
            "m.json: metric 'a': \"type\" must be \"gauge\" or \"counter\"");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a", "query": "SELECT 1 AS value"}, {"name": "a", "query": "SELECT 1 AS value"}]})"),
            "m.json: metric 'a': the name \"a\" is used twice");
  // Counter foo and gauge foo_total are two families named foo_total in the text format.
  EXPECT_EQ(error(R"({"metrics": [{"name": "foo", "type": "counter", "query": "SELECT 1 AS value"},
                                  {"name": "foo_total", "query": "SELECT 1 AS value"}]})"),
            "m.json: metric 'foo_total': the name \"foo_total\" is used twice (also by metric 'foo')");
  EXPECT_EQ(error(R"({"metrics": [{"name": "netsql_query_error", "query": "SELECT 1 AS value"}]})"),
            "m.json: metric 'netsql_query_error': the name \"netsql_query_error\" is used twice");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a", "query": "SELECT 1 AS v"}]})"),
            "metric 'a': no value column \"value\" in the query's result");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a", "query": "SELECT 1 AS \"bad label\", 2 AS value"}]})"),
            "metric 'a': column \"bad label\" would be a label, and is not a valid label name (letters, digits, _, not "
            "starting with a digit or __)");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a", "query": "SELECT 1 AS value; SELECT 2"}]})"),
            "metric 'a': the query must be one statement");
  EXPECT_EQ(error(R"j({"metrics": [{"name": "a", "query": "CREATE TABLE t(value)"}]})j"),
            "metric 'a': the query must be read-only");
  EXPECT_EQ(error(R"({"metrics": [{"name": "a", "query": "SELECT no_col AS value"}]})"),
            "metric 'a': no such column: no_col");
}

TEST(Http, RequestsGetTheirStatusAndContentType) {
  auto metrics = [](bool openmetrics) { return std::string(openmetrics ? "om" : "text"); };
  auto r = shell::answer_http("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", metrics);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "text");
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  r = shell::answer_http("GET /metrics?x=1 HTTP/1.1\r\naccept: application/openmetrics-text;version=1.0.0,*/*;q=0.1\r\n\r\n",
                         metrics);
  EXPECT_EQ(r.body, "om");
  EXPECT_EQ(r.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(shell::answer_http("GET /other HTTP/1.1\r\n\r\n", metrics).status, 404);
  EXPECT_EQ(shell::answer_http("POST /metrics HTTP/1.1\r\n\r\n", metrics).status, 405);
  EXPECT_EQ(shell::answer_http("garbage\r\n\r\n", metrics).status, 400);
  r = shell::answer_http("HEAD /metrics HTTP/1.0\r\n\r\n", metrics);
  EXPECT_EQ(shell::http_bytes(r),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\n");
}

using Serving = NetnsTest;

TEST_F(Serving, DefaultExpositionOverHttpPassesPromtoolAndCountsListeners) {
  int a = tcp_listener("127.0.0.1", 0), b = tcp_listener("::1", 0);
  Serve s({"--listen", "127.0.0.1:9947"});
  ASSERT_TRUE(s.ready()) << s.child.output();
  std::string r = get(9947, "/metrics");
  ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  std::string text = body(r);
  EXPECT_NE(text.find("\nnetsql_tcp_sockets{state=\"LISTEN\"} 3\n"), std::string::npos) << text;  // ours and serve's
  EXPECT_NE(text.find("\nnetsql_network_receive_bytes_total{device=\"lo\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("\nnetsql_tcp_listen_overflows_total "), std::string::npos) << text;
  EXPECT_NE(text.find("\nnetsql_protocol_stats_total{protocol=\"TcpExt\",name=\"SyncookiesSent\"} "), std::string::npos);
  EXPECT_NE(text.find("\nnetsql_process_sockets{process=\"netsql\"} "), std::string::npos) << text;  // host-wide
  EXPECT_EQ(text.find("netsql_query_error{query=\"netsql_tcp_sockets\"} 0\n") == std::string::npos, false) << text;
  EXPECT_EQ(text.find("} 1\nnetsql_query_error"), std::string::npos);
  EXPECT_EQ(promtool_problems(text), "");
  EXPECT_TRUE(body(get(9947, "/metrics", "Accept: application/openmetrics-text; version=1.0.0\r\n")).ends_with("# EOF\n"));
  EXPECT_EQ(s.child.stop(SIGTERM), 0) << s.child.output();
  EXPECT_EQ(s.child.output(), "netsql serve: listening on http://127.0.0.1:9947/metrics\nnetsql serve: stopped\n");
  close(a);
  close(b);
}

TEST_F(Serving, AnOversizedRequestHeadIsRefusedAndTheServerGoesOn) {
  Serve s({"--listen", "127.0.0.1:9947"});
  ASSERT_TRUE(s.ready()) << s.child.output();
  std::string r = http(9947, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << r.substr(0, 200);
  EXPECT_TRUE(get(9947, "/metrics").starts_with("HTTP/1.1 200 OK\r\n"));
  // A client that connects and says nothing does not stop others.
  int idle = tcp_connect("127.0.0.1", 9947);
  EXPECT_TRUE(get(9947, "/").starts_with("HTTP/1.1 200 OK\r\n"));
  close(idle);
}

// netsql serve with its request-head and write deadlines set (milliseconds).
struct ServeWithDeadlines : Serve {
  ServeWithDeadlines(const std::string& deadlines, const std::vector<std::string>& args)
      : Serve((setenv("NETSQL_SERVE_DEADLINES_MS", deadlines.c_str(), 1), args)) {
    unsetenv("NETSQL_SERVE_DEADLINES_MS");
  }
};

TEST_F(Serving, AScrapeOutlastingTheDeadlinesStillGetsItsWholeResponse) {
  TempDir dir;
  // closed_sockets(2500) waits 2.5 s: longer than either deadline.
  spit(dir.path + "/m.json", R"j({"metrics": [{"name": "slow", "query": "SELECT count(*) AS value FROM closed_sockets(2500)"}]})j");
  ServeWithDeadlines s("1000,1000", {"--listen", "127.0.0.1:9947", "--config", dir.path + "/m.json"});
  ASSERT_TRUE(s.ready()) << s.child.output();
  std::string r = get(9947, "/metrics");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r << s.child.output();
  EXPECT_NE(r.find("\nslow "), std::string::npos) << r;
  EXPECT_NE(r.find("\nnetsql_query_error{query=\"slow\"} 0\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\nnetsql_scrape_duration_seconds "), std::string::npos) << r;  // the last line
}

TEST_F(Serving, IdleClientsInEverySlotAreEvictedForAScrapeAndTimeOutOnTheirHead) {
  {
    // Idle clients would hold their slots for 10 minutes: only eviction lets the scrape in.
    ServeWithDeadlines s("600000,10000", {"--listen", "127.0.0.1:9947"});
    ASSERT_TRUE(s.ready()) << s.child.output();
    std::vector<int> idle;
    for (int i = 0; i < 8; ++i) idle.push_back(tcp_connect("127.0.0.1", 9947));
    EXPECT_TRUE(get(9947, "/metrics").starts_with("HTTP/1.1 200 OK\r\n"));
    for (int fd : idle) close(fd);
  }
  // A client that sends no request head is closed once its deadline passes.
  ServeWithDeadlines s("300,600000", {"--listen", "127.0.0.1:9947"});
  ASSERT_TRUE(s.ready()) << s.child.output();
  int idle = tcp_connect("127.0.0.1", 9947);
  timeval tv{20, 0};
  setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  EXPECT_EQ(recv(idle, &c, 1, 0), 0);  // EOF, not the 20 s receive timeout
  close(idle);
}

TEST_F(Serving, AQueryWaitingInsideATableIsEndedByItsTimeout) {
  TempDir dir;
  // closed_sockets(600000) would wait 10 minutes inside the table, where
  // SQLite's own interruption checks do not run.
  spit(dir.path + "/m.json", R"j({"timeout_s": 1, "metrics": [
    {"name": "waits", "query": "SELECT count(*) AS n FROM closed_sockets(600000)", "values": ["n"]},
    {"name": "quick", "query": "SELECT 1 AS value"}]})j");
  Serve s({"--listen", "127.0.0.1:9947", "--config", dir.path + "/m.json"});
  ASSERT_TRUE(s.ready()) << s.child.output();
  std::string r = get(9947, "/metrics");  // gives up after 20 s
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r << s.child.output();
  EXPECT_NE(r.find("\nnetsql_query_error{query=\"waits\"} 1\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\nquick 1\n"), std::string::npos) << r;
  EXPECT_NE(s.child.output().find("metric 'waits': timed out after 1 s\n"), std::string::npos) << s.child.output();
}

TEST_F(Serving, APortInUseOrABadConfigIsAClearError) {
  int busy = tcp_listener("127.0.0.1", 9947);
  Serve s({"--listen", "127.0.0.1:9947"});
  EXPECT_EQ(s.child.wait(), 1);
  EXPECT_EQ(s.child.output(), "netsql serve: cannot listen on 127.0.0.1:9947: Address already in use\n");
  close(busy);
  TempDir dir;
  spit(dir.path + "/m.json", "{\"metrics\": [");
  Serve bad({"--config", dir.path + "/m.json"});
  EXPECT_EQ(bad.child.wait(), 1);
  EXPECT_TRUE(bad.child.output().starts_with("netsql serve: " + dir.path + "/m.json: not valid JSON: ")) << bad.child.output();
  Serve port({"--listen", "127.0.0.1:65536"});
  EXPECT_EQ(port.child.wait(), 2);
  EXPECT_TRUE(port.child.output().starts_with("netsql serve: option '--listen' needs ADDR:PORT")) << port.child.output();
}

// Percent-encodes a PromQL expression for a URL.
std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    char hex[4];
    snprintf(hex, sizeof hex, "%%%02X", c);
    out += isalnum(c) || c == '_' ? std::string(1, static_cast<char>(c)) : std::string(hex);
  }
  return out;
}

// Prometheus's (on 127.0.0.1:9090) instant query result: the value of the
// one series `expr` selects, or nullopt while there is none.
std::optional<double> prometheus_value(const std::string& expr) {
  auto j = nlohmann::json::parse(body(get(9090, "/api/v1/query?query=" + url_encode(expr))), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

TEST_F(Serving, PrometheusScrapesServeAndSeesTheListenersAndTheTrafficSent) {
  // A link nothing else sends on (no ARP, IPv6 off, the peer without an
  // address): its transmit counter moves by exactly the datagrams sent.
  sh("ip link add d0 type veth peer name d1 && echo 1 > /proc/sys/net/ipv6/conf/d0/disable_ipv6 && "
     "echo 1 > /proc/sys/net/ipv6/conf/d1/disable_ipv6 && ip link set d0 arp off && "
     "ip addr add 10.9.0.1/24 dev d0 && ip link set d0 up && ip link set d1 up");
  int l1 = tcp_listener("127.0.0.1", 0), l2 = tcp_listener("127.0.0.1", 0), l3 = tcp_listener("::", 0);
  TempDir dir;
  // Two of the default set's metrics (the whole set, which reads every
  // process's fds, takes too long for a short scrape interval on a busy host).
  spit(dir.path + "/metrics.json", R"({"metrics": [
    {"name": "netsql_tcp_sockets", "query": "SELECT state, count(*) AS value FROM tcp_sockets GROUP BY state"},
    {"name": "netsql_network_transmit_packets", "type": "counter",
     "query": "SELECT name AS device, tx_packets AS value FROM interfaces"}]})");
  Serve s({"--listen", "127.0.0.1:9947", "--config", dir.path + "/metrics.json"});
  ASSERT_TRUE(s.ready()) << s.child.output();
  spit(dir.path + "/prometheus.yml",
       "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
       "scrape_configs:\n  - job_name: netsql\n    static_configs:\n      - targets: ['127.0.0.1:9947']\n");
  Child prometheus({"/usr/bin/prometheus", "--config.file=" + dir.path + "/prometheus.yml",
                    "--storage.tsdb.path=" + dir.path + "/data", "--web.listen-address=127.0.0.1:9090"},
                   dir.path + "/prometheus.log");
  // Two scrapes stored, so both listeners (serve's, Prometheus's) were up.
  ASSERT_TRUE(wait_until(
      [] {
        auto n = prometheus_value("count_over_time(netsql_tcp_sockets{state=\"LISTEN\"}[1m])");
        return n && *n >= 2;
      },
      60))
      << prometheus.output().substr(0, 4000);
  EXPECT_EQ(prometheus_value("up{job=\"netsql\"}"), 1.0);
  EXPECT_EQ(prometheus_value("netsql_tcp_sockets{state=\"LISTEN\"}"), 5.0);  // ours, serve's and Prometheus's
  EXPECT_EQ(prometheus_value("netsql_query_error{query=\"netsql_tcp_sockets\"}"), 0.0);
  auto before = prometheus_value("netsql_network_transmit_packets_total{device=\"d0\"}");
  ASSERT_TRUE(before);
  int u = udp_socket("10.9.0.1", 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  inet_pton(AF_INET, "10.9.0.2", &to.sin_addr);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(sendto(u, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 1) << std::strerror(errno);
  std::optional<double> after;
  EXPECT_TRUE(wait_until(
      [&] {
        after = prometheus_value("netsql_network_transmit_packets_total{device=\"d0\"}");
        return after && *after >= *before + 5;
      },
      60));
  EXPECT_EQ(after, *before + 5);
  for (int fd : {l1, l2, l3, u}) close(fd);
}

TEST_F(Serving, NodeExporterServesTheSnapshotPrometheusFile) {
  int l = tcp_listener("127.0.0.1", 0);
  TempDir dir, textfiles;
  const std::string file = textfiles.path + "/netsql.prom";
  Child snap({NETSQL_SHELL_PATH, "snapshot", "--prometheus", file}, dir.path + "/snapshot.log");
  ASSERT_EQ(snap.wait(), 0) << snap.output();
  EXPECT_EQ(run("ls -A " + textfiles.path), "netsql.prom\n");  // no temp file left
  EXPECT_EQ(promtool_problems(slurp(file)), "");
  Child exporter({"/usr/bin/prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
                  "--collector.textfile.directory=" + textfiles.path, "--web.listen-address=127.0.0.1:9100"},
                 dir.path + "/node_exporter.log");
  std::string text;
  ASSERT_TRUE(wait_until([&] { return !(text = body(get(9100, "/metrics"))).empty(); }, 30)) << exporter.output();
  EXPECT_NE(text.find("\nnetsql_tcp_sockets{state=\"LISTEN\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nnetsql_network_receive_bytes_total{device=\"lo\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("\nnode_textfile_scrape_error 0\n"), std::string::npos) << text;
  close(l);
}

TEST_F(Serving, SnapshotPrometheusReplacesTheFileAtomically) {
  TempDir dir;
  const std::string file = dir.path + "/netsql.prom";
  spit(file, "old\n");
  struct stat before {};
  stat(file.c_str(), &before);
  Child snap({NETSQL_SHELL_PATH, "snapshot", "--prometheus", file}, dir.path + "/snapshot.log");
  ASSERT_EQ(snap.wait(), 0) << snap.output();
  struct stat after {};
  stat(file.c_str(), &after);
  EXPECT_NE(before.st_ino, after.st_ino);  // a new file renamed over the old, never rewritten in place
  EXPECT_TRUE(slurp(file).starts_with("# HELP netsql_tcp_sockets ")) << slurp(file);
  Child bad({NETSQL_SHELL_PATH, "snapshot", "--prometheus", dir.path + "/missing/x.prom"}, dir.path + "/bad.log");
  EXPECT_EQ(bad.wait(), 1);
  EXPECT_TRUE(bad.output().starts_with("Error: cannot write " + dir.path + "/missing/x.prom.tmp")) << bad.output();
}

TEST_F(Serving, TheExampleMetricsConfigScrapesWithoutErrorsAndPassesPromtool) {
  int l = tcp_listener("127.0.0.1", 0);
  std::string errors;
  std::string text = scrape(slurp(NETSQL_SOURCE_DIR "/examples/metrics/netsql-metrics.json"), false, &errors);
  EXPECT_EQ(errors, "");
  EXPECT_NE(text.find("\nnetsql_tcp_listen_queue{address=\"127.0.0.1\",port=\"" + std::to_string(local_port(l)) + "\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nnetsql_network_receive_errors_detail_crc_total{device=\"lo\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nnetsql_tcp_sockets{state=\"LISTEN\"} 1\n"), std::string::npos) << text;  // "defaults": true
  EXPECT_EQ(promtool_problems(text), "");
  close(l);
}

}  // namespace
}  // namespace netsql::test
