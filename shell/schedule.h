// `netsql schedule CONFIG` and `netsql snapshot`: named queries run on
// intervals (osquery's "schedule" shape) into history tables.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "history.h"

namespace netsql::shell {

struct ScheduledQuery {
  QuerySpec spec;
  // Between snapshots; for a stream query, the longest its rows wait
  // before they are written.
  double interval_s = 0;
  std::string pack;  // osquery pack it came from; "" for "schedule"
  size_t batch_rows = 1000;  // stream: the most rows one batch holds
};

struct ScheduleConfig {
  std::string db, log, host;
  // osquery's decorators: the first row of each query, its columns added
  // to every log line's "decorations" (load: run once at start; always:
  // before every snapshot), after "hostname".
  std::vector<std::string> decorators_load, decorators_always;
  // osquery's "interval" decorators: every N seconds (before a snapshot).
  std::vector<std::pair<double, std::vector<std::string>>> decorators_interval;
  // osquery packs' discovery queries, by pack: a pack runs only if each
  // returns a row (checked at start-up).
  std::map<std::string, std::vector<std::string>> discovery;
  // osquery options that shape the parse (see osquery_config.h).
  std::string pack_delimiter = "_";
  double default_interval_s = 3600;  // osquery's schedule_default_interval
  // What was accepted but not used, or skipped (platform, shard): printed
  // at start-up, one line each.
  std::vector<std::string> notices;
  LogExtras extras;  // epoch, batch (the decorations are filled in at run time)
  std::vector<ScheduledQuery> queries;
};

// Parses and validates a config file's text (netsql's keys, or an osquery
// config: options, schedule, packs inline or as file paths relative to the
// config's directory, decorators); `path` names it in errors. `host` is
// the name shards are computed from. Throws
// std::runtime_error("PATH: query 'NAME': what is wrong").
ScheduleConfig parse_schedule(const std::string& text, const std::string& path, const std::string& host);

// Command-line settings that override the config's.
struct ScheduleOverrides {
  std::string db, log;
  bool osquery_compat = false;  // osquery's table names as TEMP views; missing tables skip the query
};

// Runs the schedule until SIGINT/SIGTERM (finishing the snapshot in
// flight). Every query is checked against the history database first.
int run_schedule(const std::string& config_path, const ScheduleOverrides& o = {});

// `netsql schedule ARGS...` and `netsql snapshot ARGS...` (the arguments
// after the command's name): parse, run, return the exit status.
int run_schedule_command(const std::vector<std::string>& args);
int run_snapshot_command(const std::vector<std::string>& args);

}  // namespace netsql::shell
