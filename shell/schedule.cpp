#include "schedule.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "collector.h"
#include "kernel/netns.h"
#include "metrics.h"
#include "numbers.h"
#include "usage.h"

namespace netsql::shell {

namespace {

using json = nlohmann::json;

std::string hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Below a millisecond a schedule is a busy loop.
constexpr double kMinIntervalS = 0.001;
// A stream's batch is held in memory (two while one is written): this
// bounds it, at some 2 KiB a closed_sockets row.
constexpr int64_t kMaxBatchRows = 10'000;

using Clock = std::chrono::steady_clock;
// A range-checked interval added to a steady clock reading (time since
// boot) cannot overflow its 64-bit nanoseconds, which last 292 years.
static_assert(std::chrono::duration<double>(kMaxIntervalS) * 100 < Clock::duration::max());

// Retention values, the same from a config or the command line.
int64_t retention_max(const std::string& key) {
  return key == "max_age_s" ? kMaxAgeS : std::numeric_limits<int64_t>::max();
}
std::string retention_rule(const std::string& key) {
  return key == "max_age_s" ? fmt::format("an integer from 1 to {} (seconds)", kMaxAgeS) : "a positive integer";
}

// A JSON integer within [lo, hi] (hi >= 0); floats and strings are not integers.
std::optional<int64_t> json_int(const json& v, int64_t lo, int64_t hi) {
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(hi)) return std::nullopt;
    x = static_cast<int64_t>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
  } else {
    return std::nullopt;
  }
  if (x < lo || x > hi) return std::nullopt;
  return x;
}

// SIGHUP: the log at `path` again (logrotate renamed the old one). The new
// file is opened before the old is closed, so a failure keeps the old one
// (and says so): no line is lost.
void reopen_log(std::ofstream& log, const std::string& path) {
  std::ofstream fresh(path, std::ios::app);
  if (!fresh) {
    std::cerr << "netsql schedule: cannot reopen log " << path << ": " << std::strerror(errno) << "; still writing the old one"
              << std::endl;
    return;
  }
  log.close();
  log = std::move(fresh);
}

// Runs each decorator query and adds its first row's columns (as strings,
// as osquery logs them; NULL as "") to `into`. Throws naming the query.
void decorate(sqlite3* db, const std::vector<std::string>& queries, json& into) {
  for (const auto& sql : queries) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    if (rc == SQLITE_OK && st && !sqlite3_stmt_readonly(st)) {
      sqlite3_finalize(st);
      throw std::runtime_error("decorator '" + sql + "': must be read-only");
    }
    if (rc == SQLITE_OK && st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const char* v = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
        into[sqlite3_column_name(st, i)] = v ? v : "";
      }
      rc = SQLITE_DONE;
    }
    std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
    sqlite3_finalize(st);
    if (!error.empty()) throw std::runtime_error("decorator '" + sql + "': " + error);
  }
}

}  // namespace

ScheduleConfig parse_schedule(const std::string& text, const std::string& path) {
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail("the config must be a JSON object");
  ScheduleConfig c;
  for (auto& [k, v] : j.items()) {
    if (k == "schedule") continue;
    if (k == "db" || k == "log" || k == "host_identifier") {
      if (!v.is_string() || v.get<std::string>().empty()) fail("\"" + k + "\" must be a non-empty string");
      (k == "db" ? c.db : k == "log" ? c.log : c.host) = v.get<std::string>();
    } else if (k == "epoch") {
      auto n = json_int(v, 0, std::numeric_limits<int64_t>::max());
      if (!n) fail("\"epoch\" must be a non-negative integer");
      c.extras.epoch = *n;
    } else if (k == "log_format") {
      if (!v.is_string() || (v != "event" && v != "batch")) fail("\"log_format\" must be \"event\" or \"batch\"");
      c.extras.batch = v == "batch";
    } else if (k == "decorators") {
      if (!v.is_object()) fail("\"decorators\" must be an object");
      for (auto& [dk, dv] : v.items()) {
        if (dk != "load" && dk != "always") fail("unknown decorators key \"" + dk + "\" (expected load, always)");
        if (!dv.is_array()) fail("decorators \"" + dk + "\" must be an array of queries");
        for (auto& sql : dv) {
          if (!sql.is_string()) fail("decorators \"" + dk + "\" must be an array of queries");
          (dk == "load" ? c.decorators_load : c.decorators_always).push_back(sql.get<std::string>());
        }
      }
    } else {
      fail("unknown key \"" + k + "\" (expected schedule, db, log, host_identifier, decorators, epoch, log_format)");
    }
  }
  if (c.db.empty()) fail("missing \"db\": the history database path");
  if (!j.contains("schedule") || !j["schedule"].is_object() || j["schedule"].empty())
    fail("missing \"schedule\": an object of named queries");
  if (c.host.empty()) c.host = hostname();
  for (auto& item : j["schedule"].items()) {
    const std::string name = item.key();  // a lambda below captures it (not a structured binding: clang 14)
    auto& q = item.value();
    auto qfail = [&](const std::string& what) { fail("query '" + name + "': " + what); };
    if (auto why = check_query_name(name); !why.empty()) fail(why);
    if (!q.is_object()) qfail("must be an object");
    ScheduledQuery sq;
    sq.spec.name = name;
    sq.spec.differential = true;  // osquery's default: "snapshot": false
    for (auto& [k, v] : q.items()) {
      if (k == "query") {
        if (!v.is_string()) qfail("\"query\" must be a string");
        sq.spec.sql = v.get<std::string>();
      } else if (k == "interval") {
        double s = v.is_number() ? v.get<double>() : 0;
        if (!(s >= kMinIntervalS && s <= kMaxIntervalS))  // also refuses NaN
          qfail(fmt::format("\"interval\" must be a number of seconds from {} to {}", kMinIntervalS, kMaxIntervalS));
        sq.interval_s = s;
      } else if (k == "snapshot") {
        if (!v.is_boolean()) qfail("\"snapshot\" must be true or false");
        sq.spec.differential = !v.get<bool>();
      } else if (k == "removed") {
        if (!v.is_boolean()) qfail("\"removed\" must be true or false");
        sq.spec.removed = v.get<bool>();
      } else if (k == "stream") {
        if (!v.is_boolean()) qfail("\"stream\" must be true or false");
        sq.spec.stream = v.get<bool>();
      } else if (k == "batch_rows") {
        auto n = json_int(v, 1, kMaxBatchRows);
        if (!n) qfail(fmt::format("\"batch_rows\" must be an integer from 1 to {}", kMaxBatchRows));
        sq.batch_rows = static_cast<size_t>(*n);
      } else if (k == "netns") {
        if (!v.is_array() || v.empty()) qfail("\"netns\" must be an array of network namespaces");
        for (auto& ns : v) {
          if (!ns.is_string() || ns.get<std::string>().empty())
            qfail("\"netns\" must be an array of network namespaces (names, paths or pids)");
          if (std::find(sq.spec.netns.begin(), sq.spec.netns.end(), ns.get<std::string>()) != sq.spec.netns.end())
            qfail("\"netns\" names " + ns.get<std::string>() + " twice");
          sq.spec.netns.push_back(ns.get<std::string>());
        }
      } else if (k == "description") {
        if (!v.is_string()) qfail("\"description\" must be a string");
      } else if (k == "retention") {
        if (!v.is_object()) qfail("\"retention\" must be an object");
        for (auto& [rk, rv] : v.items()) {
          if (rk != "max_age_s" && rk != "max_rows") qfail("unknown retention key \"" + rk + "\" (expected max_age_s, max_rows)");
          auto n = json_int(rv, 1, retention_max(rk));
          if (!n) qfail("retention \"" + rk + "\" must be " + retention_rule(rk));
          (rk == "max_age_s" ? sq.spec.retention.max_age_s : sq.spec.retention.max_rows) = n;
        }
      } else {
        qfail("unknown key \"" + k + "\" (expected query, interval, snapshot, removed, retention, description, stream, "
              "batch_rows, netns)");
      }
    }
    if (sq.spec.stream) {
      // A stream appends every row it reads: there is no snapshot to diff.
      for (const char* k : {"snapshot", "removed"})
        if (q.contains(k)) qfail(std::string("\"") + k + "\" does not go with \"stream\" (a stream appends every row)");
      sq.spec.differential = false;
    } else {
      for (const char* k : {"batch_rows", "netns"})
        if (q.contains(k)) qfail(std::string("\"") + k + "\" goes with \"stream\": true");
    }
    if (sq.spec.sql.empty()) qfail("missing \"query\"");
    if (sq.interval_s <= 0) qfail("missing \"interval\"");
    c.queries.push_back(std::move(sq));
  }
  return c;
}

int run_schedule(const std::string& config_path) {
  ScheduleConfig c;
  std::unique_ptr<History> h;
  std::ofstream log;
  json decorations = json::object();
  try {
    std::ifstream f(config_path);
    if (!f) throw std::runtime_error(config_path + ": cannot open: " + std::strerror(errno));
    std::stringstream ss;
    ss << f.rdbuf();
    c = parse_schedule(ss.str(), config_path);
    h = std::make_unique<History>(c.db);
    for (const auto& q : c.queries) {
      if (auto why = h->check(q.spec); !why.empty()) throw std::runtime_error(config_path + ": " + why);
      for (const auto& ns : q.spec.netns) {
        try {
          kernel::Netns::open(ns);
        } catch (const std::exception& e) {
          throw std::runtime_error(config_path + ": query '" + q.spec.name + "': " + e.what());
        }
      }
    }
    decorations["hostname"] = hostname();
    decorate(h->session().db(), c.decorators_load, decorations);
    json probe = decorations;
    decorate(h->session().db(), c.decorators_always, probe);  // a bad one stops start-up
    if (!c.log.empty()) {
      log.open(c.log, std::ios::app);
      if (!log) throw std::runtime_error(config_path + ": cannot open log " + c.log + ": " + std::strerror(errno));
    }
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
  // Signals arrive through a signalfd, read between snapshots: SIGINT and
  // SIGTERM stop after the snapshot in flight, SIGHUP reopens the log
  // (logrotate's postrotate).
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&handled, sig);
  sigprocmask(SIG_BLOCK, &handled, nullptr);
  const int signals = signalfd(-1, &handled, SFD_CLOEXEC);
  // Stream readers write here when a batch is full.
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (signals < 0 || wake < 0) {
    std::cerr << "Error: " << (signals < 0 ? "signalfd" : "eventfd") << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  // Waits for a signal until `until` or a full batch; false once SIGINT
  // or SIGTERM came.
  auto wait_signals = [&](Clock::time_point until) {
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      pollfd p[2] = {{signals, POLLIN, 0}, {wake, POLLIN, 0}};
      if (poll(p, 2, static_cast<int>(std::clamp<int64_t>(left, 0, 1000))) <= 0) {
        if (Clock::now() >= until) return true;
        continue;
      }
      if (p[1].revents & POLLIN) {
        uint64_t n = 0;
        [[maybe_unused]] ssize_t r = read(wake, &n, sizeof n);
        return true;
      }
      signalfd_siginfo si{};
      if (read(signals, &si, sizeof si) != sizeof si) continue;
      if (si.ssi_signo != SIGHUP) return false;
      if (!c.log.empty()) reopen_log(log, c.log);
    }
  };
  auto extras_now = [&](const std::string& name) {
    LogExtras extras = c.extras;
    json d = decorations;
    try {
      decorate(h->session().db(), c.decorators_always, d);
    } catch (const std::exception& e) {  // the run goes on without it
      std::cerr << name << ": " << e.what() << std::endl;
    }
    extras.decorations = d.dump(-1, ' ', false, json::error_handler_t::replace);
    return extras;
  };
  // Stream queries: collected on their own threads, written here.
  std::vector<std::unique_ptr<StreamCollector>> streams;
  std::vector<size_t> periodic;
  for (size_t i = 0; i < c.queries.size(); ++i) {
    const auto& q = c.queries[i];
    if (!q.spec.stream) {
      periodic.push_back(i);
      continue;
    }
    std::vector<std::string> cols = h->session().query(q.spec.sql).columns();
    streams.push_back(std::make_unique<StreamCollector>(q.spec, std::move(cols), q.batch_rows, q.interval_s, wake));
  }
  auto write_batch = [&](StreamCollector& s) {
    StreamBatch b = s.take();
    try {
      SnapshotOutcome o = h->append(s.query(), s.columns(), b, log.is_open() ? &log : nullptr, c.host,
                                    extras_now(s.query().name));
      if (b.overruns > 0)
        std::cerr << s.query().name << ": the kernel dropped announcements " << b.overruns
                  << " time(s) (ENOBUFS): recorded in batch " << o.id << std::endl;
    } catch (const std::exception& e) {
      std::cerr << s.query().name << ": could not record a batch (retried): " << e.what() << std::endl;
      s.put_back(std::move(b));
    }
  };
  std::vector<Clock::time_point> due(c.queries.size(), Clock::now());
  std::cout << "netsql schedule: " << c.queries.size() << " queries into " << c.db << std::endl;
  for (;;) {
    Clock::time_point until = Clock::time_point::max();
    for (size_t i : periodic) until = std::min(until, due[i]);
    for (auto& s : streams) until = std::min(until, s->due());
    // A stream's overruns come without a wake-up: looked for every second.
    if (!streams.empty()) until = std::min(until, Clock::now() + std::chrono::seconds(1));
    if (!wait_signals(until)) break;
    for (auto& s : streams)
      if (s->due() <= Clock::now()) write_batch(*s);
    for (size_t i : periodic) {
      if (due[i] > Clock::now()) continue;
      const auto& q = c.queries[i];
      try {
        SnapshotOutcome o = h->snapshot(q.spec, log.is_open() ? &log : nullptr, c.host, extras_now(q.spec.name));
        if (!o.error.empty()) std::cerr << q.spec.name << ": snapshot " << o.id << " failed: " << o.error << std::endl;
      } catch (const std::exception& e) {
        std::cerr << q.spec.name << ": could not record a snapshot: " << e.what() << std::endl;
      }
      auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(q.interval_s));
      due[i] += interval;
      if (due[i] < Clock::now()) due[i] = Clock::now() + interval;  // fell behind: skip, don't burst
    }
  }
  // What the streams read before the stop is written, not dropped (a
  // batch put back after a failed write goes first, the rest after it).
  for (auto& s : streams) {
    s->stop();
    write_batch(*s);
    write_batch(*s);
  }
  streams.clear();
  close(wake);
  close(signals);
  std::cout << "netsql schedule: stopped" << std::endl;
  return 0;
}

const Command& schedule_command() {
  static const Command c{
      "schedule",
      "CONFIG.json",
      "Runs the named queries of CONFIG.json (osquery's schedule format: query, interval, snapshot, removed, "
      "retention; stream, batch_rows, netns for a query that collects closed_sockets(-1) continuously; top-level db, log, host_identifier, decorators, epoch, log_format) on their intervals into history tables, in the foreground "
      "until SIGINT or SIGTERM; SIGHUP reopens the log (for logrotate). A bad config stops it before the first run, with an error naming the file and the query.",
      {{"-h", "--help", "", Arg::None, "print this usage and exit"}},
      Arg::File,
      {{"schedule /usr/share/doc/netsql/examples/schedule/netsql-schedule.json", "run the example schedule"}},
  };
  return c;
}

const Command& snapshot_command() {
  static const Command c{
      "snapshot",
      "--db FILE --name NAME [--differential] [--max-age-s N] [--max-rows N] [--log FILE] SQL | "
      "--prometheus FILE [--config FILE]",
      "Runs SQL once and records its rows in the history database: in the table NAME, with snapshot_id and "
      "snapshot_time, and a row in the catalog table snapshots. With --prometheus, writes the metrics netsql serve "
      "would serve to FILE instead, atomically (a temp file renamed over it), for node_exporter's textfile collector.",
      {
          {"", "--db", "FILE", Arg::File, "the history database (created when missing)"},
          {"", "--name", "NAME", Arg::Text, "the query's name, and its history table's (letters, digits, _)"},
          {"", "--differential", "", Arg::None, "record only the rows added and removed since the last snapshot"},
          {"", "--max-age-s", "N", Arg::Text, "retention: drop this query's history older than N seconds"},
          {"", "--max-rows", "N", Arg::Text, "retention: keep this query's newest N rows"},
          {"", "--log", "FILE", Arg::File, "append the result to FILE as osquery JSON lines"},
          {"", "--prometheus", "FILE", Arg::File, "write the metrics to FILE in the Prometheus text format"},
          {"", "--config", "FILE", Arg::File, "with --prometheus: the metrics config (default: the built-in set)"},
          {"-h", "--help", "", Arg::None, "print this usage and exit"},
      },
      Arg::Sql,
      {{"snapshot --db history.db --name listening --differential "
        "\"SELECT local_address, local_port, process FROM tcp_sockets WHERE state = 'LISTEN'\"",
        "record which listeners came and went since the last run"},
       {"snapshot --prometheus /var/lib/prometheus/node-exporter/netsql.prom",
        "metrics for node_exporter's textfile collector (from cron or a timer)"}},
  };
  return c;
}

int run_schedule_command(const std::vector<std::string>& args) {
  const Command& cmd = schedule_command();
  auto usage = [&](const std::string& what) {
    std::cerr << "netsql schedule: " << what << "\n" << help_text(cmd);
    return 2;
  };
  std::string config;
  for (const std::string& a : args) {
    if (a.size() > 1 && a[0] == '-') {
      const Option* o = cmd.find(a);
      if (!o) return usage("unknown option " + a);
      if (o->long_name == "--help") {
        std::cout << help_text(cmd);
        return 0;
      }
    } else if (!config.empty()) {
      return usage("give one CONFIG.json");
    } else {
      config = a;
    }
  }
  if (config.empty()) return usage("missing CONFIG.json");
  return run_schedule(config);
}

int run_snapshot_command(const std::vector<std::string>& args) {
  const Command& cmd = snapshot_command();
  auto usage = [&](const std::string& what) {
    std::cerr << "netsql snapshot: " << what << "\n" << help_text(cmd);
    return 2;
  };
  QuerySpec q;
  std::string db, log_path, prometheus, metrics_config;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      if (!q.sql.empty()) return usage("give the SQL as one argument (quote it)");
      q.sql = a;
      continue;
    }
    const Option* o = cmd.find(a);
    if (!o) return usage("unknown option " + a);
    std::string v;
    if (!o->value.empty()) {
      if (i + 1 >= args.size()) return usage(a + " takes " + o->value);
      v = args[++i];
    }
    if (o->long_name == "--help") {
      std::cout << help_text(cmd);
      return 0;
    } else if (o->long_name == "--db") {
      db = v;
    } else if (o->long_name == "--name") {
      q.name = v;
    } else if (o->long_name == "--log") {
      log_path = v;
    } else if (o->long_name == "--prometheus") {
      prometheus = v;
    } else if (o->long_name == "--config") {
      metrics_config = v;
    } else if (o->long_name == "--differential") {
      q.differential = true;
    } else if (o->long_name == "--max-age-s" || o->long_name == "--max-rows") {
      const std::string key = o->long_name == "--max-age-s" ? "max_age_s" : "max_rows";
      auto n = parse_int(v, 1, retention_max(key));
      if (!n) return usage(a + " takes " + retention_rule(key));
      (key == "max_age_s" ? q.retention.max_age_s : q.retention.max_rows) = n;
    }
  }
  if (!prometheus.empty() || !metrics_config.empty()) {
    if (prometheus.empty()) return usage("--config goes with --prometheus FILE");
    if (!db.empty() || !q.name.empty() || !q.sql.empty() || !log_path.empty())
      return usage("--prometheus writes metrics: no --db, --name, --log or SQL with it");
    try {
      write_textfile(prometheus, metrics_config.empty() ? default_metrics() : load_metrics_config(metrics_config), std::cerr);
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "Error: " << e.what() << "\n";
      return 1;
    }
  }
  if (db.empty() || q.name.empty() || q.sql.empty())
    return usage(db.empty() ? "missing --db FILE" : q.name.empty() ? "missing --name NAME" : "missing the SQL");
  try {
    History h(db);
    if (auto why = h.check(q); !why.empty()) throw std::runtime_error(why);
    std::ofstream log;
    if (!log_path.empty()) {
      log.open(log_path, std::ios::app);
      if (!log) throw std::runtime_error("cannot open log " + log_path);
    }
    SnapshotOutcome o = h.snapshot(q, log.is_open() ? &log : nullptr, hostname());
    if (!o.error.empty()) throw std::runtime_error("query '" + q.name + "': " + o.error);
    std::cout << q.name << ": snapshot " << o.id << ", " << o.rows << " rows, " << o.added << " added, " << o.removed
              << " removed\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace netsql::shell
