// Prometheus metrics from SQL: a metrics config (or the built-in default
// set), and the collector that runs its queries and writes the exposition,
// in the text format 0.0.4 or OpenMetrics 1.0. Used by `netsql serve` and
// `netsql snapshot --prometheus`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "session.h"

namespace netsql::shell {

enum class MetricType { Gauge, Counter };

// One query, one or more metric families: each value column is a family
// (NAME when there is one, NAME_COLUMN when there are several; counters end
// in _total), every other column a label.
struct MetricSpec {
  std::string name;  // without _total
  std::string help;
  MetricType type = MetricType::Gauge;
  std::string sql;
  std::vector<std::string> values{"value"};
  int64_t max_series = 0;  // 0: the config's
};

struct MetricsConfig {
  std::vector<MetricSpec> metrics;
  double timeout_s = 5;       // per query
  int64_t max_series = 1000;  // per family and scrape; more are dropped and counted
};

inline constexpr double kMaxQueryTimeoutS = 3600;
inline constexpr int64_t kMaxSeriesLimit = 1000000;

// The built-in set: TCP sockets by state, SYN-flood signs, retransmissions,
// interface and protocol counters, sockets per process.
MetricsConfig default_metrics();
// Parses a metrics config (JSON); `path` names it in errors. Throws
// std::runtime_error("PATH: metric 'NAME': what is wrong").
MetricsConfig parse_metrics_config(const std::string& text, const std::string& path);
// Reads and parses the file at `path`.
MetricsConfig load_metrics_config(const std::string& path);

// The exposition format's rules, each in one place.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
// A label value between the quotes: \ " and newline escaped, valid UTF-8.
std::string escape_label_value(std::string_view value);
// HELP text: \ and newline escaped (and " in OpenMetrics), valid UTF-8.
std::string escape_help(std::string_view help, bool openmetrics);

// Writes one scrape's text exposition to `path` atomically, for
// node_exporter's textfile collector: a temp file beside it (PATH.tmp.PID,
// which the collector ignores), fsync, rename over PATH, fsync of the
// directory. Query errors go to `err`. Throws std::runtime_error naming
// the file.
void write_textfile(const std::string& path, const MetricsConfig& config, std::ostream& err);

class Collector {
 public:
  // Checks every query against the session (one read-only statement, the
  // value columns present, the other columns valid label names). Throws
  // std::runtime_error naming the metric.
  Collector(Session& s, MetricsConfig config);
  // Runs every query and returns the exposition. A failing query yields
  // its error metric, never a failed scrape; its message goes to `err`.
  std::string scrape(bool openmetrics, std::ostream& err);

 private:
  Session& s_;
  MetricsConfig c_;
};

}  // namespace netsql::shell
