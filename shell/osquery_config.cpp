#include "osquery_config.h"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "numbers.h"
#include "statement.h"
#include "vtabs/osquery_compat.h"

namespace netsql::shell {

namespace {

using json = nlohmann::json;

uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

// An option's value as osquery's flags take it: a JSON string, number or
// bool (osquery writes "schedule_epoch": 5 and "schedule_epoch": "5" alike).
std::string option_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  return "";  // floats, objects, arrays: no flag is one
}

std::string read_machine_file(const char* path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

}  // namespace

std::string strip_osquery_comments(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    size_t first = text.find_first_not_of(" \t\r", at);
    bool comment = first < end && (text[first] == '#' || text.compare(first, 2, "//") == 0);
    if (!comment) out.append(text, at, end - at);
    if (end < text.size()) out.push_back('\n');
    at = end + 1;
  }
  return out;
}

std::string sha1_hex(const std::string& data) {
  std::array<uint32_t, 5> h{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  // The message, a 0x80 byte, zeros, then the bit length: whole 64-byte blocks.
  std::string m = data;
  m.push_back(static_cast<char>(0x80));
  while (m.size() % 64 != 56) m.push_back(0);
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>(bits >> (8 * i)));
  for (size_t block = 0; block < m.size(); block += 64) {
    std::array<uint32_t, 80> w{};
    for (int t = 0; t < 16; ++t)
      for (int b = 0; b < 4; ++b) w[t] = (w[t] << 8) | static_cast<uint8_t>(m[block + 4 * t + b]);
    for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      uint32_t f, k;
      if (t < 20) {
        f = (b & c) | (~b & d), k = 0x5A827999;
      } else if (t < 40) {
        f = b ^ c ^ d, k = 0x6ED9EBA1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d, k = 0xCA62C1D6;
      }
      uint32_t tmp = rotl(a, 5) + f + e + k + w[t];
      e = d, d = c, c = rotl(b, 30), b = a, a = tmp;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::string out;
  for (uint32_t x : h) out += fmt::format("{:08x}", x);
  return out;
}

int osquery_machine_shard(const std::string& hostname) {
  const int first_byte = std::stoi(sha1_hex(hostname).substr(0, 2), nullptr, 16);
  return first_byte * 100 / 255;
}

bool osquery_platform_matches(const std::string& p) {
  if (p.empty() || p == "null") return true;
  for (const char* ours : {"any", "all", "linux", "ubuntu", "centos", "posix"})
    if (p.find(ours) != std::string::npos) return true;
  return false;
}

std::string osquery_ignored_root_key(const std::string& key) {
  static const char* const kKeys[] = {"file_paths", "file_paths_query", "file_accesses", "exclude_paths", "yara",
                                      "views", "events", "feature_vectors", "kafka_topics", "prometheus_targets",
                                      "auto_table_construction", "logger"};
  for (const char* k : kKeys)
    if (key == k) return "\"" + key + "\" is osquery's and netsql does not use it: ignored";
  return "";
}

void apply_osquery_options(const json& options, ScheduleConfig& c) {
  if (!options.is_object()) throw std::runtime_error("\"options\" must be an object");
  std::string identifier_mode, specified;
  for (auto& item : options.items()) {
    const std::string k = item.key();  // not a structured binding: a lambda captures it (clang 14)
    const json& v = item.value();
    const std::string text = option_text(v);
    auto bad = [&](const std::string& rule) { throw std::runtime_error("options \"" + k + "\" must be " + rule); };
    if (k == "host_identifier") {
      if (text != "hostname" && text != "uuid" && text != "instance" && text != "ephemeral" && text != "specified")
        bad("hostname, uuid, instance, ephemeral or specified");
      identifier_mode = text;
    } else if (k == "specified_identifier") {
      if (!v.is_string()) bad("a string");
      specified = text;
    } else if (k == "schedule_epoch") {
      auto n = parse_int(text, 0, std::numeric_limits<int64_t>::max());
      if (!n) bad("a non-negative integer");
      c.extras.epoch = *n;
    } else if (k == "logger_event_type") {
      if (text != "true" && text != "false") bad("true or false");
      c.extras.batch = text == "false";  // osquery: false logs a run's diff as one batch line
    } else if (k == "logger_path") {
      if (text.empty()) bad("a directory");
      c.log = text + "/osqueryd.results.log";  // osquery's filesystem logger's file name
    } else if (k == "pack_delimiter") {
      if (!v.is_string() || text.empty() || text.size() > 8) bad("a string of 1 to 8 characters");
      c.pack_delimiter = text;
    } else if (k == "schedule_default_interval") {
      auto n = parse_int(text, 1, static_cast<int64_t>(kMaxIntervalS));
      if (!n) bad(fmt::format("an integer number of seconds from 1 to {}", kMaxIntervalS));
      c.default_interval_s = static_cast<double>(*n);
    } else {
      c.notices.push_back("options \"" + k + "\": not an osquery option netsql implements; ignored");
    }
  }
  if (identifier_mode == "specified") {
    if (specified.empty()) throw std::runtime_error("options \"host_identifier\" is specified but \"specified_identifier\" is missing");
    c.host = specified;
  } else if (identifier_mode == "uuid") {
    // osquery's uuid is the machine's hardware UUID; the DMI one, or the machine id.
    std::string uuid = read_machine_file("/sys/class/dmi/id/product_uuid");
    if (uuid.empty()) uuid = read_machine_file("/etc/machine-id");
    if (uuid.empty()) c.notices.push_back("options \"host_identifier\": no machine UUID readable; using the host name");
    if (!uuid.empty()) c.host = uuid;
  } else if (identifier_mode == "instance" || identifier_mode == "ephemeral") {
    c.notices.push_back("options \"host_identifier\": " + identifier_mode + " is not implemented; using the host name");
  }
}

void create_osquery_views(sqlite3* db) {
  try {
    exec(db, vt::osquery_compat_sql());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("cannot create the osquery views: ") + e.what());
  }
}

}  // namespace netsql::shell
