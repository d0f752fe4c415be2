#include "schedule.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "collector.h"
#include "kernel/netns.h"
#include "metrics.h"
#include "numbers.h"
#include "osquery_config.h"
#include "json.h"
#include "signals.h"
#include "statement.h"
#include "command_line.h"
#include "usage.h"

namespace netsql::shell {

namespace {

using json = nlohmann::json;

std::string hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

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
    bool readonly = true;
    try {
      Statement st(db, sql);
      if (!st) throw std::runtime_error("no statement");
      readonly = st.readonly();
      if (readonly && st.step())
        for (int i = 0; i < st.columns(); ++i) into[st.name(i)] = std::string(st.text(i));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("decorator '" + sql + "': " + e.what());
    }
    if (!readonly) throw std::runtime_error("decorator '" + sql + "': must be read-only");
  }
}

// The decorations as the log's JSON object (every value a string).
std::string decorations_json(const json& d) {
  std::string out;
  JsonObjectWriter o(out);
  for (const auto& item : d.items()) o.string(item.key(), item.value().get_ref<const std::string&>());
  o.end();
  return out;
}

using Fail = std::function<void(const std::string&)>;

// A history table's name for an osquery query name (pack_P_Q may hold any
// character a pack's name does): every other character becomes '_'.
std::string table_name_for(const std::string& name) {
  std::string t = name;
  for (char& ch : t)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) ch = '_';
  return t;
}

// One query of "schedule" or (`in_pack`) of a pack's "queries", named
// `name` in the log.
// nullopt when osquery would not run it on this host (a notice says why).
std::optional<ScheduledQuery> parse_query(const std::string& name, bool in_pack, const json& q,
                                          const std::string& host, ScheduleConfig& c, const Fail& fail) {
  auto qfail = [&](const std::string& what) { fail("query '" + name + "': " + what); };
  if (!q.is_object()) qfail("must be an object");
  ScheduledQuery sq;
  sq.spec.name = in_pack ? table_name_for(name) : name;  // "schedule" names are table names as they are
  if (sq.spec.name != name) sq.spec.log_name = name;
  if (auto why = check_query_name(sq.spec.name); !why.empty()) fail(why);
  sq.spec.differential = true;  // osquery's default: "snapshot": false
  sq.interval_s = c.default_interval_s;
  std::string skip;
  for (auto& [k, v] : q.items()) {
    if (k == "query") {
      if (!v.is_string()) qfail("\"query\" must be a string");
      sq.spec.sql = v.get<std::string>();
    } else if (k == "interval") {
      // osquery's packs write "interval": "3600" as often as 3600.
      double s = v.is_number() ? v.get<double>() : v.is_string() ? parse_real(v.get<std::string>(), 0, kMaxIntervalS).value_or(0) : 0;
      if (!(s >= kMinIntervalS && s <= kMaxIntervalS))  // also refuses NaN
        qfail(fmt::format("\"interval\" must be a number of seconds from {} to {}", kMinIntervalS, kMaxIntervalS));
      sq.interval_s = s;
    } else if (k == "snapshot" || k == "removed" || k == "denylist") {
      if (!v.is_boolean()) qfail("\"" + k + "\" must be true or false");
      if (k == "snapshot") sq.spec.differential = !v.get<bool>();
      if (k == "removed") sq.spec.removed = v.get<bool>();
      // denylist: osquery's watchdog may stop running a query; netsql has no watchdog.
    } else if (k == "description" || k == "version" || k == "value") {
      // version: the osquery release a query needs; netsql answers every query it can compile.
      // value: osquery's packs say there why a query matters.
      if (!v.is_string()) qfail("\"" + k + "\" must be a string");
    } else if (k == "platform") {
      if (!v.is_string()) qfail("\"platform\" must be a string");
      if (!osquery_platform_matches(v.get<std::string>())) skip = "platform \"" + v.get<std::string>() + "\" is not linux";
    } else if (k == "shard") {
      auto n = json_int(v, 0, 100);
      if (!n) qfail("\"shard\" must be an integer from 0 to 100");
      if (*n > 0 && *n < osquery_machine_shard(host))
        skip = fmt::format("shard {} leaves out this host (its shard is {})", *n, osquery_machine_shard(host));
    } else if (k == "retention") {
      if (!v.is_object()) qfail("\"retention\" must be an object");
      for (auto& [rk, rv] : v.items()) {
        if (rk != "max_age_s" && rk != "max_rows") qfail("unknown retention key \"" + rk + "\" (expected max_age_s, max_rows)");
        auto n = json_int(rv, 1, retention_max(rk));
        if (!n) qfail("retention \"" + rk + "\" must be " + retention_rule(rk));
        (rk == "max_age_s" ? sq.spec.retention.max_age_s : sq.spec.retention.max_rows) = n;
      }
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
    } else {
      qfail("unknown key \"" + k +
            "\" (expected query, interval, snapshot, removed, platform, version, shard, denylist, retention, description, "
            "value, stream, batch_rows, netns)");
    }
  }
  if (sq.spec.stream) {
    // Not schedule_default_interval (an hour): a batch would wait that long
    // in memory, and a failed scan as long to restart.
    if (!q.contains("interval")) qfail("a stream needs \"interval\": the longest a batch waits to be written");
    // A stream appends every row it reads: there is no snapshot to diff.
    for (const char* k : {"snapshot", "removed"})
      if (q.contains(k)) qfail(std::string("\"") + k + "\" does not go with \"stream\" (a stream appends every row)");
    sq.spec.differential = false;
  } else {
    for (const char* k : {"batch_rows", "netns"})
      if (q.contains(k)) qfail(std::string("\"") + k + "\" goes with \"stream\": true");
  }
  if (sq.spec.sql.empty()) qfail("missing \"query\"");
  if (!skip.empty()) {
    c.notices.push_back("query '" + name + "': " + skip + "; skipped");
    return std::nullopt;
  }
  return sq;
}

// A pack: inline, or the path of a JSON file (relative to the config's
// directory), with "queries" and optional platform, version, shard,
// discovery and oncall.
void parse_pack(const std::string& pack, const json& value, const std::string& config_dir, const std::string& host,
                ScheduleConfig& c, const Fail& fail) {
  auto pfail = [&](const std::string& what) { fail("pack '" + pack + "': " + what); };
  json p = value;
  if (value.is_string()) {
    std::string file = value.get<std::string>();
    if (!file.empty() && file[0] != '/') file = config_dir + file;
    std::ifstream f(file);
    if (!f) pfail("cannot open " + file + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << f.rdbuf();
    p = json::parse(strip_osquery_comments(ss.str()), nullptr, false);
    if (p.is_discarded()) pfail(file + " is not valid JSON");
  }
  if (!p.is_object()) pfail("must be an object or the path of a pack file");
  if (!p.contains("queries") || !p["queries"].is_object()) pfail("missing \"queries\": an object of named queries");
  std::string skip;
  for (auto& [k, v] : p.items()) {
    if (k == "queries") continue;
    if (k == "platform" || k == "version" || k == "oncall") {
      if (!v.is_string()) pfail("\"" + k + "\" must be a string");
      if (k == "platform" && !osquery_platform_matches(v.get<std::string>()))
        skip = "platform \"" + v.get<std::string>() + "\" is not linux";
    } else if (k == "shard") {
      auto n = json_int(v, 0, 100);
      if (!n) pfail("\"shard\" must be an integer from 0 to 100");
      if (*n > 0 && *n < osquery_machine_shard(host))
        skip = fmt::format("shard {} leaves out this host (its shard is {})", *n, osquery_machine_shard(host));
    } else if (k == "discovery") {
      if (!v.is_array()) pfail("\"discovery\" must be an array of queries");
      for (auto& sql : v) {
        if (!sql.is_string()) pfail("\"discovery\" must be an array of queries");
        c.discovery[pack].push_back(sql.get<std::string>());
      }
    } else {
      pfail("unknown key \"" + k + "\" (expected queries, platform, version, shard, discovery, oncall)");
    }
  }
  if (!skip.empty()) {
    c.notices.push_back("pack '" + pack + "': " + skip + "; skipped");
    c.discovery.erase(pack);
    return;
  }
  for (auto& item : p["queries"].items()) {
    const std::string name = "pack" + c.pack_delimiter + pack + c.pack_delimiter + item.key();
    if (auto sq = parse_query(name, true, item.value(), host, c, fail)) {
      sq->pack = pack;
      c.queries.push_back(std::move(*sq));
    }
  }
}

}  // namespace

ScheduleConfig parse_schedule(const std::string& text, const std::string& path, const std::string& host) {
  const Fail fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  json j;
  try {
    j = json::parse(strip_osquery_comments(text));  // osquery's configs may hold # and // lines
  } catch (const json::parse_error& e) {
    fail(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail("the config must be a JSON object");
  ScheduleConfig c;
  c.host = host;
  // Options first: the config's own keys (db, log, epoch, ...) override them.
  if (j.contains("options")) {
    try {
      apply_osquery_options(j["options"], c);
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }
  for (auto& [k, v] : j.items()) {
    if (k == "schedule" || k == "packs" || k == "options") continue;
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
        if (dk == "interval") {
          if (!dv.is_object()) fail("decorators \"interval\" must be an object of seconds to arrays of queries");
          for (auto& [secs, list] : dv.items()) {
            auto n = parse_int(secs, 1, static_cast<int64_t>(kMaxIntervalS));
            if (!n) fail(fmt::format("decorators \"interval\" key \"{}\" must be seconds from 1 to {}", secs, kMaxIntervalS));
            if (!list.is_array()) fail("decorators \"interval\" \"" + secs + "\" must be an array of queries");
            std::vector<std::string> queries;
            for (auto& sql : list) {
              if (!sql.is_string()) fail("decorators \"interval\" \"" + secs + "\" must be an array of queries");
              queries.push_back(sql.get<std::string>());
            }
            c.decorators_interval.emplace_back(static_cast<double>(*n), std::move(queries));
          }
          continue;
        }
        if (dk != "load" && dk != "always") fail("unknown decorators key \"" + dk + "\" (expected load, always, interval)");
        if (!dv.is_array()) fail("decorators \"" + dk + "\" must be an array of queries");
        for (auto& sql : dv) {
          if (!sql.is_string()) fail("decorators \"" + dk + "\" must be an array of queries");
          (dk == "load" ? c.decorators_load : c.decorators_always).push_back(sql.get<std::string>());
        }
      }
    } else if (auto notice = osquery_ignored_root_key(k); !notice.empty()) {
      c.notices.push_back(notice);
    } else {
      fail("unknown key \"" + k +
           "\" (expected schedule, packs, options, db, log, host_identifier, decorators, epoch, log_format)");
    }
  }
  const bool has_schedule = j.contains("schedule"), has_packs = j.contains("packs");
  if (!has_schedule && !has_packs) fail("missing \"schedule\" (or \"packs\"): an object of named queries");
  if (has_schedule) {
    if (!j["schedule"].is_object()) fail("\"schedule\" must be an object of named queries");
    for (auto& item : j["schedule"].items())
      if (auto sq = parse_query(item.key(), false, item.value(), host, c, fail)) c.queries.push_back(std::move(*sq));
  }
  if (has_packs) {
    if (!j["packs"].is_object()) fail("\"packs\" must be an object of packs (inline, or a pack file's path)");
    const std::string dir = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/') + 1);
    for (auto& item : j["packs"].items()) parse_pack(item.key(), item.value(), dir, host, c, fail);
  }
  // Two names may map to one history table (pack "a-b" and "a_b").
  for (size_t i = 0; i < c.queries.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (c.queries[i].spec.name == c.queries[k].spec.name)
        fail("queries '" + c.queries[k].spec.log_or_name() + "' and '" + c.queries[i].spec.log_or_name() +
             "' would share the history table " + c.queries[i].spec.name + "; rename one");
  return c;
}

namespace {

// True when `error` (from History::check) says the query reads a table
// netsql does not have (an osquery-only one).
bool missing_table(const std::string& error) { return error.find("no such table: ") != std::string::npos; }

// Drops the queries osquery would not run now: those of a pack whose
// discovery query fails or returns no row, and (with the compat views) those
// naming a table netsql does not serve. Each is named in a notice.
void drop_unrunnable(ScheduleConfig& c, History& h, bool compat, const std::string& config_path) {
  sqlite3* db = h.session().db();
  for (const auto& entry : c.discovery) {
    const std::string& pack = entry.first;  // not a structured binding: a lambda captures it (clang 14)
    const std::vector<std::string>& queries = entry.second;
    std::string why;
    for (const auto& sql : queries) {
      try {
        Statement st(db, sql);
        if (!st) throw std::runtime_error("no statement");
        if (!st.readonly()) why = "discovery query '" + sql + "' must be read-only";
        else if (!st.step()) why = "discovery query '" + sql + "' returned no row";
      } catch (const std::runtime_error& e) {
        why = "discovery query '" + sql + "' failed: " + e.what();
      }
      if (!why.empty()) break;
    }
    if (why.empty()) continue;
    c.notices.push_back("pack '" + pack + "': " + why + "; its queries are skipped");
    std::erase_if(c.queries, [&](const ScheduledQuery& q) { return q.pack == pack; });
  }
  std::vector<ScheduledQuery> kept;
  for (auto& q : c.queries) {
    std::string why = h.check(q.spec);
    if (why.empty()) {
      kept.push_back(std::move(q));
    } else if (compat && missing_table(why)) {
      c.notices.push_back("query '" + q.spec.log_or_name() + "' needs a table netsql does not have (" +
                          why.substr(why.find("no such table: ") + 15) + "); skipped");
    } else {
      throw std::runtime_error(config_path + ": " + why);
    }
  }
  c.queries = std::move(kept);
}

}  // namespace

int run_schedule(const std::string& config_path, const ScheduleOverrides& over) {
  ScheduleConfig c;
  std::unique_ptr<History> h;
  std::ofstream log;
  json decorations = json::object();
  // osquery's interval decorators: when each list runs next, and its columns.
  std::vector<Clock::time_point> decorator_due;
  std::vector<json> decorator_values;
  try {
    std::ifstream f(config_path);
    if (!f) throw std::runtime_error(config_path + ": cannot open: " + std::strerror(errno));
    std::stringstream ss;
    ss << f.rdbuf();
    c = parse_schedule(ss.str(), config_path, hostname());
    if (!over.db.empty()) c.db = over.db;
    if (!over.log.empty()) c.log = over.log;
    if (c.db.empty()) throw std::runtime_error(config_path + ": missing \"db\": the history database path (or --db FILE)");
    h = std::make_unique<History>(c.db);
    if (over.osquery_compat) create_osquery_views(h->session().db());
    drop_unrunnable(c, *h, over.osquery_compat, config_path);
    for (const auto& n : c.notices) std::cerr << "netsql schedule: " << n << "\n";
    if (c.queries.empty()) throw std::runtime_error(config_path + ": no query left to run on this host");
    for (const auto& q : c.queries)
      for (const auto& ns : q.spec.netns) {
        try {
          kernel::Netns::open(ns);
        } catch (const std::exception& e) {
          throw std::runtime_error(config_path + ": query '" + q.spec.name + "': " + e.what());
        }
      }
    decorations["hostname"] = hostname();
    decorate(h->session().db(), c.decorators_load, decorations);
    json probe = decorations;
    decorate(h->session().db(), c.decorators_always, probe);  // a bad one stops start-up
    for (const auto& [secs, queries] : c.decorators_interval) {
      decorator_values.push_back(json::object());
      decorate(h->session().db(), queries, decorator_values.back());  // runs now, and stops start-up if bad
      decorator_due.push_back(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(secs)));
    }
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
  std::optional<SignalFd> signals;
  try {
    signals.emplace(std::initializer_list<int>{SIGHUP});
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
  // Stream readers write here when a batch is full.
  const int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    std::cerr << "Error: eventfd: " << std::strerror(errno) << "\n";
    return 1;
  }
  // Waits for a signal until `until` or a full batch; false once SIGINT
  // or SIGTERM came.
  auto wait_signals = [&](Clock::time_point until) {
    for (;;) {
      // `until` may be the clock's earliest time (a batch due at once):
      // compared first, never subtracted from (that overflows).
      const Clock::time_point now = Clock::now();
      const int64_t left =
          until <= now ? 0 : std::min<int64_t>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count(), 1000);
      pollfd p[2] = {{signals->fd(), POLLIN, 0}, {wake, POLLIN, 0}};
      if (poll(p, 2, static_cast<int>(left)) <= 0) {
        if (Clock::now() >= until) return true;
        continue;
      }
      if (p[1].revents & POLLIN) {
        uint64_t n = 0;
        [[maybe_unused]] ssize_t r = read(wake, &n, sizeof n);
        return true;
      }
      int sig = signals->read();
      if (sig == 0) continue;
      if (sig != SIGHUP) return false;
      if (!c.log.empty()) reopen_log(log, c.log);
    }
  };
  auto extras_now = [&](const std::string& name) {
    LogExtras extras = c.extras;
    json d = decorations;
    try {
      for (size_t i = 0; i < decorator_due.size(); ++i) {
        if (Clock::now() < decorator_due[i]) continue;
        auto every = std::chrono::duration<double>(c.decorators_interval[i].first);
        decorator_due[i] = Clock::now() + std::chrono::duration_cast<Clock::duration>(every);
        json fresh = json::object();
        decorate(h->session().db(), c.decorators_interval[i].second, fresh);
        decorator_values[i] = std::move(fresh);
      }
      for (const auto& v : decorator_values) d.update(v);
      decorate(h->session().db(), c.decorators_always, d);
    } catch (const std::exception& e) {  // the run goes on without it
      std::cerr << name << ": " << e.what() << std::endl;
    }
    extras.decorations = decorations_json(d);
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
    try {
      streams.push_back(std::make_unique<StreamCollector>(q.spec, over.osquery_compat, q.batch_rows, q.interval_s, wake));
    } catch (const std::exception& e) {
      std::cerr << "Error: " << config_path << ": " << e.what() << "\n";
      streams.clear();  // stops the readers started
      close(wake);
      return 1;
    }
  }
  auto write_batch = [&](StreamCollector& s) {
    StreamBatch b = s.take();
    try {
      SnapshotOutcome o = h->append(s.query(), s.columns(), b, log.is_open() ? &log : nullptr, c.host,
                                    extras_now(s.query().name));
      if (b.overruns > 0)
        std::cerr << s.query().name << ": the kernel dropped announcements " << b.overruns
                  << " time(s) (ENOBUFS): recorded in batch " << o.id << std::endl;
      s.recycle(std::move(b.rows));
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
    write_batch(*s);  // the batch put back, if any, then what is pending (rows, overruns, errors)
    write_batch(*s);
    for (int attempt = 0; attempt < 2 && s->unwritten_rows() > 0; ++attempt) write_batch(*s);
    if (size_t lost = s->unwritten_rows())
      std::cerr << s->query().name << ": " << lost << " row(s) read but not written: the history refused them (above)"
                << std::endl;
  }
  streams.clear();
  close(wake);
  std::cout << "netsql schedule: stopped" << std::endl;
  return 0;
}

const Command& schedule_command() {
  static const Command c{
      "schedule",
      "[--db FILE] [--log FILE] [--osquery-compat] CONFIG.json | --config CONFIG.json",
      "Runs the named queries of CONFIG.json (netsql's keys, or an osquery config: options, schedule, packs, "
      "decorators; per query: query, interval, snapshot, removed, platform, version, shard, denylist, retention; stream, batch_rows, "
      "netns for a query that collects closed_sockets(-1) continuously) on their intervals into history tables, in the foreground "
      "until SIGINT or SIGTERM; SIGHUP reopens the log (for logrotate). A bad config stops it before the first run, with "
      "an error naming the file and the query; what is accepted but not used (osquery options, queries for other "
      "platforms or shards) is listed at start-up.",
      {{"", "--config", "CONFIG.json", Arg::File, "the config (the same as giving it as the argument)"},
       {"", "--db", "FILE", Arg::File, "the history database (instead of the config's \"db\")"},
       {"", "--log", "FILE", Arg::File, "the result log (instead of the config's \"log\" or osquery's logger_path)"},
       {"", "--osquery-compat", "", Arg::None,
        "create osquery's table names (listening_ports, process_open_sockets, arp_cache, routes) as views; a "
        "query naming a table netsql lacks is skipped with a notice"},
       {"-h", "--help", "", Arg::None, "print this usage and exit"}},
      Arg::File,
      {{"schedule /usr/share/doc/netsql/examples/schedule/netsql-schedule.json", "run the example schedule"},
       {"schedule --osquery-compat --db /var/lib/netsql/history.db /etc/osquery/osquery.conf",
        "run an osquery config's network queries"}},
      run_schedule_command,
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
      run_snapshot_command,
  };
  return c;
}

int run_schedule_command(const std::vector<std::string>& args) {
  // A stream collector allocates for every row on two threads, and
  // Debian's SQLite (no lookaside) counts each allocation under a global
  // mutex: 2.5 points of the collector's CPU at 20,000 closes/s. Those
  // statistics serve only SQLite's heap limits, which therefore do not
  // apply in a schedule (README). Before SQLite initializes.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  const Command& cmd = schedule_command();
  ParsedCommandLine line;
  if (auto status = parse_command_line(cmd, args, line)) return *status;
  std::string config;
  ScheduleOverrides over;
  for (const auto& [o, v] : line.options) {
    if (o->long_name == "--osquery-compat") {
      over.osquery_compat = true;
    } else if (o->long_name == "--db") {
      over.db = v;
    } else if (o->long_name == "--log") {
      over.log = v;
    } else {  // --config
      line.operands.insert(line.operands.begin(), v);
    }
  }
  if (line.operands.empty()) return usage_error(cmd, "missing CONFIG.json");
  if (line.operands.size() > 1) return usage_error(cmd, "give one CONFIG.json");
  return run_schedule(line.operands[0], over);
}

int run_snapshot_command(const std::vector<std::string>& args) {
  const Command& cmd = snapshot_command();
  ParsedCommandLine line;
  if (auto status = parse_command_line(cmd, args, line)) return *status;
  auto usage = [&](const std::string& what) { return usage_error(cmd, what); };
  QuerySpec q;
  std::string db, log_path, prometheus, metrics_config;
  for (const auto& [o, v] : line.options) {
    if (o->long_name == "--db") {
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
    } else {  // --max-age-s, --max-rows
      const std::string key = o->long_name == "--max-age-s" ? "max_age_s" : "max_rows";
      auto n = parse_int(v, 1, retention_max(key));
      if (!n) return usage(option_needs(*o, retention_rule(key)));
      (key == "max_age_s" ? q.retention.max_age_s : q.retention.max_rows) = n;
    }
  }
  if (line.operands.size() > 1) return usage("give the SQL as one argument (quote it)");
  if (!line.operands.empty()) q.sql = line.operands[0];
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
