#include "names.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "numbers.h"

namespace netsql::shell {

namespace {

std::string read_all(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whitespace-separated words of each line, '#' comments removed.
template <class F>
void each_line(std::string_view text, F&& f) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (!w.empty()) f(w);
  }
}

struct Names {
  std::map<std::pair<int, std::string>, std::string> services = parse_services(read_all("/etc/services"));
  std::map<std::string, std::string> hosts = parse_hosts(read_all("/etc/hosts"));
};

void service_name_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* names = static_cast<Names*>(sqlite3_user_data(ctx));
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  sqlite3_int64 port = sqlite3_value_int64(argv[0]);
  const char* proto = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (port == 0) return sqlite3_result_text(ctx, "*", 1, SQLITE_STATIC);
  if (port < 0 || port > 65535) return sqlite3_result_int64(ctx, port);  // not a port: no name
  auto it = names->services.find({static_cast<int>(port), proto ? proto : "tcp"});
  if (it == names->services.end()) return sqlite3_result_int64(ctx, port);
  sqlite3_result_text(ctx, it->second.c_str(), static_cast<int>(it->second.size()), SQLITE_TRANSIENT);
}

void host_name_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* names = static_cast<Names*>(sqlite3_user_data(ctx));
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  std::string addr = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  auto it = names->hosts.find(addr);
  const std::string& out = it == names->hosts.end() ? addr : it->second;
  sqlite3_result_text(ctx, out.c_str(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::map<std::pair<int, std::string>, std::string> parse_services(std::string_view text) {
  std::map<std::pair<int, std::string>, std::string> out;
  each_line(text, [&](const std::vector<std::string>& w) {
    if (w.size() < 2) return;
    auto slash = w[1].find('/');
    if (slash == std::string::npos) return;
    if (auto port = parse_int(std::string_view(w[1]).substr(0, slash), 0, 65535))
      out.emplace(std::make_pair(static_cast<int>(*port), w[1].substr(slash + 1)), w[0]);  // the first name wins
  });
  return out;
}

std::map<std::string, std::string> parse_hosts(std::string_view text) {
  std::map<std::string, std::string> out;
  each_line(text, [&](const std::vector<std::string>& w) {
    if (w.size() >= 2) out.emplace(w[0], w[1]);
  });
  return out;
}

void register_name_functions(sqlite3* db) {
  auto* names = new Names;
  sqlite3_create_function_v2(db, "service_name", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, names, service_name_fn, nullptr,
                             nullptr, nullptr);
  sqlite3_create_function_v2(db, "host_name", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, names, host_name_fn, nullptr,
                             nullptr, [](void* p) { delete static_cast<Names*>(p); });
}

}  // namespace netsql::shell
