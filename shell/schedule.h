// `netsql schedule CONFIG` and `netsql snapshot`: named queries run on
// intervals (osquery's "schedule" shape) into history tables.
#pragma once

#include <string>
#include <vector>

#include "history.h"

namespace netsql::shell {

struct ScheduledQuery {
  QuerySpec spec;
  // Between snapshots; for a stream query, the longest its rows wait
  // before they are written.
  double interval_s = 0;
  size_t batch_rows = 1000;  // stream: the most rows one batch holds
};

struct ScheduleConfig {
  std::string db, log, host;
  // osquery's decorators: the first row of each query, its columns added
  // to every log line's "decorations" (load: run once at start; always:
  // before every snapshot), after "hostname".
  std::vector<std::string> decorators_load, decorators_always;
  LogExtras extras;  // epoch, batch (the decorations are filled in at run time)
  std::vector<ScheduledQuery> queries;
};

// Parses and validates a config file's text; `path` names it in errors.
// Throws std::runtime_error("PATH: query 'NAME': what is wrong").
ScheduleConfig parse_schedule(const std::string& text, const std::string& path);

// Runs the schedule until SIGINT/SIGTERM (finishing the snapshot in
// flight). Every query is checked against the history database first.
int run_schedule(const std::string& config_path);

// `netsql schedule ARGS...` and `netsql snapshot ARGS...` (the arguments
// after the command's name): parse, run, return the exit status.
int run_schedule_command(const std::vector<std::string>& args);
int run_snapshot_command(const std::vector<std::string>& args);

}  // namespace netsql::shell
