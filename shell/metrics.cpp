#include "metrics.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "encoding.h"
#include "signals.h"
#include "statement.h"

namespace netsql::shell {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The metrics every exposition carries about its own queries.
constexpr const char* kSelfMetrics[] = {"netsql_query_error", "netsql_query_dropped_series",
                                        "netsql_query_duration_seconds", "netsql_scrape_duration_seconds"};

MetricSpec spec(std::string name, MetricType type, std::string help, std::string sql, int64_t max_series = 0) {
  MetricSpec m;
  m.name = std::move(name);
  m.type = type;
  m.help = std::move(help);
  m.sql = std::move(sql);
  m.max_series = max_series;
  return m;
}

// A family's name as the samples carry it, and as HELP/TYPE name it.
std::string sample_name(const MetricSpec& m, size_t value) {
  std::string n = m.values.size() > 1 ? m.name + "_" + m.values[value] : m.name;
  return m.type == MetricType::Counter ? n + "_total" : n;
}
std::string family_name(const MetricSpec& m, size_t value, bool openmetrics) {
  std::string n = sample_name(m, value);
  return openmetrics && m.type == MetricType::Counter ? n.substr(0, n.size() - 6) : n;
}

void write_family_header(std::string& out, const std::string& name, const std::string& help, const char* type,
                         bool openmetrics) {
  out += "# HELP " + name + " " + escape_help(help, openmetrics) + "\n";
  out += "# TYPE " + name + " " + type + "\n";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string column_text(const Statement& st, int i) {
  switch (st.type(i)) {
    case SQLITE_NULL: return "";
    case SQLITE_INTEGER: return std::to_string(st.int64(i));
    case SQLITE_FLOAT: return number(sqlite3_column_double(st.get(), i));
    default: return std::string(st.text(i));
  }
}

// The config's numbers: integers and seconds within their ranges.
int64_t json_count(const json& v, int64_t hi, const std::function<void(const std::string&)>& fail,
                   const std::string& key) {
  if (!(v.is_number_integer() || v.is_number_unsigned()) || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi)) ||
      v.get<int64_t>() < 1 || v.get<int64_t>() > hi)
    fail(fmt::format("\"{}\" must be an integer from 1 to {}", key, hi));
  return v.get<int64_t>();
}

// Ends a query that runs past its deadline, also one that waits inside a
// virtual table (closed_sockets) where SQLite's own checks do not run:
// sqlite3_interrupt, which such a table checks every 100 ms, and with it
// a wake-up signal to the querying thread, which cuts the wait short at
// once (signals.h). One thread per scrape, joined by the destructor.
class QueryDeadline {
 public:
  explicit QueryDeadline(sqlite3* db) : db_(db), target_(pthread_self()) {
    install_thread_wakeup();
    thread_ = std::thread([this] { watch(); });
  }
  ~QueryDeadline() {
    {
      std::lock_guard lock(m_);
      quit_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void arm(Clock::time_point deadline) {
    {
      std::lock_guard lock(m_);
      armed_ = true;
      fired_ = false;
      deadline_ = deadline;
    }
    cv_.notify_one();
  }
  // Call while the query's statement is still open; true when it was interrupted.
  bool disarm() {
    std::lock_guard lock(m_);
    armed_ = false;
    return fired_;
  }

 private:
  void watch() {
    std::unique_lock lock(m_);
    while (!quit_) {
      if (!armed_) {
        cv_.wait(lock);
      } else if (Clock::now() < deadline_) {
        cv_.wait_until(lock, deadline_);
      } else {
        fired_ = true;
        sqlite3_interrupt(db_);
        wake_thread(target_);
        cv_.wait_for(lock, std::chrono::milliseconds(100));
      }
    }
  }
  sqlite3* db_;
  pthread_t target_;
  std::mutex m_;
  std::condition_variable cv_;
  bool armed_ = false, fired_ = false, quit_ = false;
  Clock::time_point deadline_;
  std::thread thread_;
};

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_alpha(name[0]) || name[0] == ':')) return false;
  for (char c : name)
    if (!(is_alpha(c) || is_digit(c) || c == ':')) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0]) || name.substr(0, 2) == "__") return false;
  for (char c : name)
    if (!(is_alpha(c) || is_digit(c))) return false;
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (char c : valid_utf8(value)) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view help, bool openmetrics) {
  std::string out;
  for (char c : valid_utf8(help)) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && openmetrics) out += "\\\"";
    else out += c;
  }
  return out;
}

MetricsConfig default_metrics() {
  using T = MetricType;
  MetricsConfig c;
  auto& m = c.metrics;
  m.push_back(spec("netsql_tcp_sockets", T::Gauge, "TCP sockets by state (tcp_sockets).",
                   "SELECT state, count(*) AS value FROM tcp_sockets GROUP BY state"));
  m.push_back(spec("netsql_udp_sockets", T::Gauge, "UDP sockets (udp_sockets).", "SELECT count(*) AS value FROM udp_sockets"));
  // SYN flood signs and retransmissions: protocol_stats counters of their own.
  auto counter = [&](const char* name, const char* protocol, const char* kernel_name, const char* help) {
    m.push_back(spec(name, T::Counter, fmt::format("{} (protocol_stats {} {}).", help, protocol, kernel_name),
                     fmt::format("SELECT value FROM protocol_stats WHERE protocol = '{}' AND name = '{}'", protocol,
                                 kernel_name)));
  };
  counter("netsql_tcp_listen_overflows", "TcpExt", "ListenOverflows", "Times a listener's accept queue was full");
  counter("netsql_tcp_listen_drops", "TcpExt", "ListenDrops", "SYNs dropped by listeners");
  counter("netsql_tcp_syncookies_sent", "TcpExt", "SyncookiesSent", "SYN cookies sent");
  counter("netsql_tcp_syncookies_received", "TcpExt", "SyncookiesRecv", "SYN cookies received back");
  counter("netsql_tcp_syncookies_failed", "TcpExt", "SyncookiesFailed", "Invalid SYN cookies received");
  counter("netsql_tcp_retransmitted_segments", "Tcp", "RetransSegs", "TCP segments retransmitted");
  counter("netsql_tcp_syn_retransmits", "TcpExt", "TCPSynRetrans", "SYN and SYN/ACK retransmissions");
  // Every other protocol counter; the few that are gauges or settings are left out.
  m.push_back(spec("netsql_protocol_stats", T::Counter, "Protocol counters of /proc/net/snmp, netstat and snmp6 (protocol_stats).",
                   "SELECT protocol, name, value FROM protocol_stats WHERE value >= 0 AND NOT ("
                   "(protocol = 'Tcp' AND name IN ('RtoAlgorithm', 'RtoMin', 'RtoMax', 'MaxConn', 'CurrEstab')) OR "
                   "(protocol = 'Ip' AND name IN ('Forwarding', 'DefaultTTL')))",
                   5000));
  auto link = [&](const char* name, const char* column, const char* help) {
    m.push_back(spec(fmt::format("netsql_network_{}", name), T::Counter,
                     fmt::format("{} (interfaces {}).", help, column),
                     fmt::format("SELECT name AS device, {} AS value FROM interfaces", column)));
  };
  link("receive_bytes", "rx_bytes", "Bytes received by the interface");
  link("receive_packets", "rx_packets", "Packets received by the interface");
  link("receive_errors", "rx_errors", "Receive errors");
  link("receive_drop", "rx_dropped", "Received packets dropped by the stack");
  link("transmit_bytes", "tx_bytes", "Bytes sent by the interface");
  link("transmit_packets", "tx_packets", "Packets sent by the interface");
  link("transmit_errors", "tx_errors", "Transmit errors");
  link("transmit_drop", "tx_dropped", "Packets dropped on transmit");
  m.push_back(spec("netsql_process_sockets", T::Gauge,
                   "Sockets held per process name, the 100 processes holding most (socket_owners).",
                   "SELECT process, count(*) AS value FROM socket_owners GROUP BY process "
                   "ORDER BY value DESC, process LIMIT 100"));
  return c;
}

MetricsConfig parse_metrics_config(const std::string& text, const std::string& path) {
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail("the config must be a JSON object");
  MetricsConfig c;
  bool defaults = false;
  for (auto& [k, v] : j.items()) {
    if (k == "metrics") {
      if (!v.is_array()) fail("\"metrics\" must be an array of objects");
    } else if (k == "timeout_s") {
      double s = v.is_number() ? v.get<double>() : 0;
      if (!(s > 0 && s <= kMaxQueryTimeoutS))
        fail(fmt::format("\"timeout_s\" must be a number of seconds greater than 0 and at most {}", kMaxQueryTimeoutS));
      c.timeout_s = s;
    } else if (k == "max_series") {
      c.max_series = json_count(v, kMaxSeriesLimit, fail, k);
    } else if (k == "defaults") {
      if (!v.is_boolean()) fail("\"defaults\" must be true or false");
      defaults = v.get<bool>();
    } else {
      fail("unknown key \"" + k + "\" (expected metrics, timeout_s, max_series, defaults)");
    }
  }
  if (defaults) c.metrics = default_metrics().metrics;
  if (j.contains("metrics")) {
    size_t index = 0;
    for (auto& m : j["metrics"]) {
      ++index;
      std::string label = m.is_object() && m.contains("name") && m["name"].is_string()
                              ? "metric '" + m["name"].get<std::string>() + "'"
                              : fmt::format("metric {}", index);
      auto mfail = [&](const std::string& what) { fail(label + ": " + what); };
      if (!m.is_object()) mfail("must be an object");
      MetricSpec s;
      for (auto& [k, v] : m.items()) {
        if (k == "name" || k == "help" || k == "query" || k == "type") {
          if (!v.is_string()) mfail("\"" + k + "\" must be a string");
          const std::string t = v.get<std::string>();
          if (k == "name") s.name = t;
          else if (k == "help") s.help = t;
          else if (k == "query") s.sql = t;
          else if (t == "gauge" || t == "counter") s.type = t == "gauge" ? MetricType::Gauge : MetricType::Counter;
          else mfail("\"type\" must be \"gauge\" or \"counter\"");
        } else if (k == "values") {
          if (!v.is_array() || v.empty()) mfail("\"values\" must be a non-empty array of column names");
          s.values.clear();
          for (auto& col : v) {
            if (!col.is_string()) mfail("\"values\" must be a non-empty array of column names");
            s.values.push_back(col.get<std::string>());
          }
        } else if (k == "max_series") {
          s.max_series = json_count(v, kMaxSeriesLimit, mfail, k);
        } else {
          mfail("unknown key \"" + k + "\" (expected name, help, type, query, values, max_series)");
        }
      }
      if (s.name.empty()) mfail("missing \"name\"");
      if (s.sql.empty()) mfail("missing \"query\"");
      if (s.type == MetricType::Counter && s.name.size() > 6 && s.name.ends_with("_total"))
        s.name.resize(s.name.size() - 6);  // _total is added back to every sample
      if (s.help.empty()) s.help = "netsql query " + s.name + ".";
      c.metrics.push_back(std::move(s));
    }
  }
  if (c.metrics.empty()) fail("no metrics: give \"metrics\" or \"defaults\": true");
  // Family names: valid, and each once in either format (the self metrics
  // included): counter foo and gauge foo_total are both foo_total in text.
  std::map<std::string, std::string> owners[2];  // family name -> metric, text and OpenMetrics
  for (auto& o : owners)
    for (const char* self : kSelfMetrics) o[self] = self;
  for (const auto& m : c.metrics) {
    std::set<std::string> columns;
    for (size_t i = 0; i < m.values.size(); ++i) {
      if (!columns.insert(m.values[i]).second) fail("metric '" + m.name + "': value column \"" + m.values[i] + "\" given twice");
      std::string n = sample_name(m, i);
      if (!valid_metric_name(n))
        fail("metric '" + m.name + "': \"" + n + "\" is not a valid metric name (letters, digits, _ and :, not starting with a digit)");
      for (bool openmetrics : {false, true}) {
        auto [at, fresh] = owners[openmetrics].emplace(family_name(m, i, openmetrics), m.name);
        if (!fresh)
          fail("metric '" + m.name + "': the name \"" + at->first + "\" is used twice" +
               (at->second == m.name ? "" : " (also by metric '" + at->second + "')"));
      }
    }
  }
  return c;
}

MetricsConfig load_metrics_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_metrics_config(ss.str(), path);
}

Collector::Collector(Session& s, MetricsConfig config) : s_(s), c_(std::move(config)) {
  for (const auto& m : c_.metrics) {
    auto fail = [&](const std::string& what) { throw std::runtime_error("metric '" + m.name + "': " + what); };
    if (m.sql.find('\0') != std::string::npos) fail("the query holds a NUL byte");
    Statement st;
    std::string_view tail;
    try {
      st = Statement(s_.db(), m.sql, &tail);
    } catch (const std::runtime_error& e) {
      fail(e.what());
    }
    if (!st) fail("the query is empty");
    if (tail.find_first_not_of(" \t\r\n;") != std::string_view::npos) fail("the query must be one statement");
    if (!st.readonly()) fail("the query must be read-only");
    std::set<std::string> columns, values(m.values.begin(), m.values.end());
    for (int i = 0; i < st.columns(); ++i) {
      std::string col = st.name(i);
      if (!columns.insert(col).second) fail("two result columns are named \"" + col + "\"");
      if (!values.count(col) && !valid_label_name(col))
        fail("column \"" + col + "\" would be a label, and is not a valid label name (letters, digits, _, not starting with a digit or __)");
    }
    for (const auto& v : m.values)
      if (!columns.count(v)) fail("no value column \"" + v + "\" in the query's result");
  }
}

std::string Collector::scrape(bool openmetrics, std::ostream& err) {
  const auto scrape_start = Clock::now();
  struct Outcome {
    bool failed = false;
    int64_t dropped = 0;
    double seconds = 0;
  };
  std::vector<Outcome> outcomes(c_.metrics.size());
  std::string out;
  QueryDeadline deadline(s_.db());
  for (size_t q = 0; q < c_.metrics.size(); ++q) {
    const MetricSpec& m = c_.metrics[q];
    const auto start = Clock::now();
    deadline.arm(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c_.timeout_s)));
    const int64_t limit = m.max_series ? m.max_series : c_.max_series;
    std::vector<std::string> bodies(m.values.size());
    std::vector<int64_t> counts(m.values.size());
    std::string error;
    std::string failure;  // SQLite's, when the query failed
    bool timed_out = false;
    {
      Statement st;
      try {
        st = Statement(s_.db(), m.sql);
        const int n = st.columns();
        std::vector<int> value_index(m.values.size(), -1);
        std::vector<bool> is_value(n);
        for (int i = 0; i < n; ++i)
          for (size_t v = 0; v < m.values.size(); ++v)
            if (m.values[v] == st.name(i)) value_index[v] = i, is_value[i] = true;
        for (size_t v = 0; v < m.values.size(); ++v)
          if (value_index[v] < 0) error = "no value column \"" + m.values[v] + "\" in the query's result";
        int64_t row = 0;
        while (error.empty() && st.step()) {
          ++row;
          std::string labels;
          for (int i = 0; i < n; ++i) {
            if (is_value[i]) continue;
            labels += labels.empty() ? "{" : ",";
            labels += st.name(i) + "=\"" + escape_label_value(column_text(st, i)) + "\"";
          }
          if (!labels.empty()) labels += "}";
          for (size_t v = 0; v < m.values.size() && error.empty(); ++v) {
            const int i = value_index[v];
            const int type = st.type(i);
            if (type == SQLITE_NULL) continue;  // no sample
            if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) {
              error = fmt::format("value column \"{}\" is not a number in row {}: '{}'", m.values[v], row,
                                  valid_utf8(column_text(st, i)).substr(0, 64));
              break;
            }
            if (counts[v] >= limit) {
              ++outcomes[q].dropped;
              continue;
            }
            ++counts[v];
            bodies[v] += sample_name(m, v) + labels + " " + column_text(st, i) + "\n";
          }
        }
      } catch (const std::runtime_error& e) {
        failure = e.what();
      }
      timed_out = deadline.disarm();  // while the statement is open
    }
    if (error.empty() && !failure.empty()) error = timed_out ? fmt::format("timed out after {} s", c_.timeout_s) : failure;
    outcomes[q].seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!error.empty()) {
      outcomes[q].failed = true;
      err << "metric '" << m.name << "': " << error << std::endl;
      continue;
    }
    for (size_t v = 0; v < m.values.size(); ++v) {
      write_family_header(out, family_name(m, v, openmetrics), m.help, m.type == MetricType::Gauge ? "gauge" : "counter",
                          openmetrics);
      out += bodies[v];
    }
  }
  auto self = [&](const char* name, const char* help, auto value) {
    write_family_header(out, name, help, "gauge", openmetrics);
    for (size_t q = 0; q < c_.metrics.size(); ++q)
      out += fmt::format("{}{{query=\"{}\"}} {}\n", name, escape_label_value(c_.metrics[q].name), value(outcomes[q]));
  };
  self(kSelfMetrics[0], "1 when the metric's query failed on this scrape (its error is on netsql's standard error), else 0.",
       [](const Outcome& o) { return o.failed ? 1 : 0; });
  self(kSelfMetrics[1], "Series the query returned beyond its max_series limit on this scrape, left out.",
       [](const Outcome& o) { return o.dropped; });
  self(kSelfMetrics[2], "How long the metric's query took on this scrape.",
       [](const Outcome& o) { return number(o.seconds); });
  write_family_header(out, kSelfMetrics[3], "How long this scrape took.", "gauge", openmetrics);
  out += std::string(kSelfMetrics[3]) + " " + number(std::chrono::duration<double>(Clock::now() - scrape_start).count()) + "\n";
  if (openmetrics) out += "# EOF\n";
  return out;
}

void write_textfile(const std::string& path, const MetricsConfig& config, std::ostream& err) {
  Session session(":memory:");
  Collector collector(session, config);
  const std::string text = collector.scrape(false, err);
  const std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  auto fail = [&](const std::string& what) {
    unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + what + ": " + std::strerror(errno));
  };
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp);
  for (size_t at = 0; at < text.size();) {
    ssize_t n = write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      fail(tmp);
    }
    at += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    close(fd);
    fail(tmp);
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) fail(path);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (int d = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    fsync(d);  // the rename itself survives a crash
    close(d);
  }
}

}  // namespace netsql::shell
