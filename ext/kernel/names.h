// Port, host and protocol names from the system's files, as netstat shows
// them without -n: /etc/services, /etc/hosts and /etc/protocols only, never a network lookup (no
// NSS, no DNS). Part of the kernel layer: no SQLite here.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace netsql::kernel {

inline constexpr const char* kServicesPath = "/etc/services";
inline constexpr const char* kHostsPath = "/etc/hosts";
inline constexpr const char* kProtocolsPath = "/etc/protocols";
inline constexpr const char* kPasswdPath = "/etc/passwd";

// "ssh 22/tcp" lines of /etc/services.
struct Service {
  std::string name;
  uint16_t port = 0;
  std::string protocol;
  std::string aliases;  // space-separated; "" when none
};
// "127.0.0.1 localhost" lines of /etc/hosts; the address in canonical
// text (inet_ntop), as the socket tables show addresses.
struct Host {
  std::string address;
  std::string name;
  std::string aliases;  // space-separated; "" when none
};

// "icmp 1 ICMP" lines of /etc/protocols (IP protocol numbers, 0-255).
struct Protocol {
  std::string name;
  uint8_t number = 0;
  std::string aliases;  // space-separated; "" when none
};

// "root:x:0:0:root:/root:/bin/bash" lines of /etc/passwd: name and uid.
struct User {
  std::string name;
  uint32_t uid = 0;
};

// One line of each file; nullopt for blank, comment and malformed lines
// (a port beyond 65535, an address inet_pton does not take).
std::optional<Service> parse_service_line(std::string_view line);
std::optional<Host> parse_host_line(std::string_view line);
std::optional<Protocol> parse_protocol_line(std::string_view line);
std::optional<User> parse_passwd_line(std::string_view line);

// The lines of a file, one at a time, so memory does not grow with the
// file. A file that cannot be opened has no lines.
class LineReader {
 public:
  explicit LineReader(const char* path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  // The next line, without its newline; false at the end.
  bool next(std::string& line);

 private:
  FILE* f_ = nullptr;
};

// The entries of a services or hosts file, one at a time.
template <class Entry, std::optional<Entry> (*Parse)(std::string_view)>
class EntryReader {
 public:
  explicit EntryReader(const char* path) : lines_(path) {}
  std::optional<Entry> next() {
    for (std::string line; lines_.next(line);)
      if (auto e = Parse(line)) return e;
    return std::nullopt;
  }

 private:
  LineReader lines_;
};
using ServicesReader = EntryReader<Service, parse_service_line>;
using HostsReader = EntryReader<Host, parse_host_line>;
using ProtocolsReader = EntryReader<Protocol, parse_protocol_line>;
using PasswdReader = EntryReader<User, parse_passwd_line>;

// What service_name() and host_name() look up, read from a file once.
// The first entry for a port and protocol, or for an address, wins, as in
// getservbyport() and gethostbyaddr() with the files backend.
class ServiceNames {
 public:
  static ServiceNames load(const char* path = kServicesPath);
  // nullptr when the file names no such port.
  const std::string* find(int64_t port, std::string_view protocol) const;

 private:
  std::map<std::pair<uint16_t, std::string>, std::string> names_;
};

class HostNames {
 public:
  static HostNames load(const char* path = kHostsPath);
  // `address` in any form inet_pton takes; nullptr when no line names it.
  const std::string* find(std::string_view address) const;

 private:
  std::map<std::string, std::string, std::less<>> names_;
};

// What protocol_name() looks up (getprotobynumber() with the files
// backend: the first line for a number wins).
class ProtocolNames {
 public:
  static ProtocolNames load(const char* path = kProtocolsPath);
  // nullptr when the file names no such protocol number.
  const std::string* find(int64_t number) const;

 private:
  std::map<uint8_t, std::string> names_;
};

// What user_name() looks up (getpwuid() with the files backend: the
// first line for a uid wins).
class UserNames {
 public:
  static UserNames load(const char* path = kPasswdPath);
  // nullptr when the file names no such uid.
  const std::string* find(int64_t uid) const;

 private:
  std::map<uint32_t, std::string> names_;
};

}  // namespace netsql::kernel
