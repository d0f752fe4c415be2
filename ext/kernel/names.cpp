#include "kernel/names.h"

#include <arpa/inet.h>

#include <charconv>
#include <vector>

namespace netsql::kernel {

namespace {

// Whitespace-separated words of a line, a '#' comment removed.
std::vector<std::string_view> words(std::string_view line) {
  if (auto h = line.find('#'); h != std::string_view::npos) line = line.substr(0, h);
  std::vector<std::string_view> out;
  size_t at = 0;
  while (true) {
    at = line.find_first_not_of(" \t\r\v\f", at);
    if (at == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t\r\v\f", at);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(at, end - at));
    at = end;
  }
  return out;
}

std::string join_from(const std::vector<std::string_view>& w, size_t first) {
  std::string out;
  for (size_t i = first; i < w.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += w[i];
  }
  return out;
}

// The canonical text of an IPv4 or IPv6 address; nullopt if it is neither.
std::optional<std::string> canonical_address(std::string_view text) {
  std::string s(text);
  unsigned char bin[16];
  char out[INET6_ADDRSTRLEN];
  for (int family : {AF_INET, AF_INET6})
    if (inet_pton(family, s.c_str(), bin) == 1 && inet_ntop(family, bin, out, sizeof out)) return std::string(out);
  return std::nullopt;
}

}  // namespace

std::optional<Service> parse_service_line(std::string_view line) {
  auto w = words(line);
  if (w.size() < 2) return std::nullopt;
  size_t slash = w[1].find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == w[1].size()) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(w[1].data(), w[1].data() + slash, port);
  if (ec != std::errc() || end != w[1].data() + slash || port > 65535) return std::nullopt;
  return Service{std::string(w[0]), static_cast<uint16_t>(port), std::string(w[1].substr(slash + 1)), join_from(w, 2)};
}

std::optional<Host> parse_host_line(std::string_view line) {
  auto w = words(line);
  if (w.size() < 2) return std::nullopt;
  auto address = canonical_address(w[0]);
  if (!address) return std::nullopt;
  return Host{std::move(*address), std::string(w[1]), join_from(w, 2)};
}

std::optional<Protocol> parse_protocol_line(std::string_view line) {
  auto w = words(line);
  if (w.size() < 2) return std::nullopt;
  unsigned number = 0;
  auto [end, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), number);
  if (ec != std::errc() || end != w[1].data() + w[1].size() || number > 255) return std::nullopt;
  return Protocol{std::string(w[0]), static_cast<uint8_t>(number), join_from(w, 2)};
}

std::optional<User> parse_passwd_line(std::string_view line) {
  size_t first = line.find(':');
  if (first == 0 || first == std::string_view::npos) return std::nullopt;
  size_t second = line.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  size_t third = line.find(':', second + 1);
  if (third == std::string_view::npos) return std::nullopt;
  std::string_view uid_text = line.substr(second + 1, third - second - 1);
  uint32_t uid = 0;
  auto [end, ec] = std::from_chars(uid_text.data(), uid_text.data() + uid_text.size(), uid);
  if (uid_text.empty() || ec != std::errc() || end != uid_text.data() + uid_text.size()) return std::nullopt;
  return User{std::string(line.substr(0, first)), uid};
}

LineReader::LineReader(const char* path) : f_(std::fopen(path, "re")) {}

LineReader::~LineReader() {
  if (f_) std::fclose(f_);
}

bool LineReader::next(std::string& line) {
  line.clear();
  if (!f_) return false;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f_)) {
    line += buf;
    if (line.back() == '\n') {
      line.pop_back();
      return true;
    }
  }
  return !line.empty();  // a last line without a newline
}

ServiceNames ServiceNames::load(const char* path) {
  ServiceNames n;
  ServicesReader r(path);
  while (auto e = r.next()) n.names_.emplace(std::make_pair(e->port, std::move(e->protocol)), std::move(e->name));
  return n;
}

const std::string* ServiceNames::find(int64_t port, std::string_view protocol) const {
  if (port < 0 || port > 65535) return nullptr;
  auto it = names_.find({static_cast<uint16_t>(port), std::string(protocol)});
  return it == names_.end() ? nullptr : &it->second;
}

HostNames HostNames::load(const char* path) {
  HostNames n;
  HostsReader r(path);
  while (auto e = r.next()) n.names_.emplace(std::move(e->address), std::move(e->name));
  return n;
}

const std::string* HostNames::find(std::string_view address) const {
  auto canonical = canonical_address(address);
  if (!canonical) return nullptr;
  auto it = names_.find(*canonical);
  return it == names_.end() ? nullptr : &it->second;
}

ProtocolNames ProtocolNames::load(const char* path) {
  ProtocolNames n;
  ProtocolsReader r(path);
  while (auto e = r.next()) n.names_.emplace(e->number, std::move(e->name));
  return n;
}

const std::string* ProtocolNames::find(int64_t number) const {
  if (number < 0 || number > 255) return nullptr;
  auto it = names_.find(static_cast<uint8_t>(number));
  return it == names_.end() ? nullptr : &it->second;
}

UserNames UserNames::load(const char* path) {
  UserNames n;
  PasswdReader r(path);
  while (auto e = r.next()) n.names_.emplace(e->uid, std::move(e->name));
  return n;
}

const std::string* UserNames::find(int64_t uid) const {
  if (uid < 0 || uid > UINT32_MAX) return nullptr;
  auto it = names_.find(static_cast<uint32_t>(uid));
  return it == names_.end() ? nullptr : &it->second;
}

}  // namespace netsql::kernel
