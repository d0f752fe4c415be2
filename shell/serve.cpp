#include "serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "metrics.h"
#include "numbers.h"
#include "signals.h"
#include "command_line.h"
#include "usage.h"

namespace netsql::shell {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestBytes = 16 * 1024;  // request line and headers
constexpr size_t kMaxConnections = 8;           // more wait in the listen backlog

// How long a client has to send its request head (from accept), and to
// take the response (from when it is ready: the scrape's own time is not
// the client's). When all slots are taken, a new client evicts the oldest
// one still owing its request head.
struct Deadlines {
  std::chrono::milliseconds head{2000}, write{10000};
};

// The defaults, or for tests NETSQL_SERVE_DEADLINES_MS="HEAD,WRITE".
Deadlines deadlines() {
  Deadlines d;
  const char* env = std::getenv("NETSQL_SERVE_DEADLINES_MS");
  std::string text = env ? env : "";
  size_t comma = text.find(',');
  if (comma != std::string::npos) {
    auto head = parse_int(text.substr(0, comma), 1, 3600000), write = parse_int(text.substr(comma + 1), 1, 3600000);
    if (head && write) d = {std::chrono::milliseconds(*head), std::chrono::milliseconds(*write)};
  }
  return d;
}

struct Address {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

// "127.0.0.1:9947", "[::1]:9947"; port 0 picks a free one.
std::optional<Address> parse_listen(const std::string& text) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = parse_int(port, 0, 65535);
  if (!p) return std::nullopt;
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(*p));
    a.len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(*p));
    a.len = sizeof *v6;
  } else {
    return std::nullopt;
  }
  return a;
}

std::string address_text(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&a.ss);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    return fmt::format("{}:{}", buf, ntohs(v4->sin_port));
  }
  auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
  inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
  return fmt::format("[{}]:{}", buf, ntohs(v6->sin6_port));
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct Connection {
  Fd fd;
  std::string in, out;
  size_t sent = 0;
  bool draining = false;  // response sent, write side shut: reading to EOF before closing
  Clock::time_point deadline;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Serves until SIGINT or SIGTERM; throws on a set-up failure.
int serve(const Address& listen_on, const MetricsConfig& config) {
  Session session(":memory:");
  Collector collector(session, config);
  const Deadlines limits = deadlines();

  SignalFd signals;  // SIGINT, SIGTERM

  Fd listener(socket(listen_on.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (listener.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener.get(), reinterpret_cast<const sockaddr*>(&listen_on.ss), listen_on.len) != 0 ||
      listen(listener.get(), 64) != 0)
    throw std::runtime_error("cannot listen on " + address_text(listen_on) + ": " + std::strerror(errno));
  Address bound;
  bound.len = sizeof bound.ss;
  getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound.ss), &bound.len);
  std::cout << "netsql serve: listening on http://" << address_text(bound) << "/metrics" << std::endl;

  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  for (;;) {
    auto waiting_for_head = [](const Connection& c) { return c.out.empty(); };
    bool room = conns.size() < kMaxConnections || std::any_of(conns.begin(), conns.end(), waiting_for_head);
    fds.assign({{signals.fd(), POLLIN, 0}, {listener.get(), static_cast<short>(room ? POLLIN : 0), 0}});
    auto now = Clock::now();
    auto wait = Clock::duration::max();
    for (const auto& c : conns) {
      fds.push_back({c.fd.get(), static_cast<short>(c.out.empty() || c.draining ? POLLIN : POLLOUT), 0});
      wait = std::min(wait, c.deadline - now);
    }
    int timeout_ms = wait == Clock::duration::max()
                         ? -1
                         : static_cast<int>(std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR)
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    if (fds[0].revents) break;  // SIGINT or SIGTERM
    now = Clock::now();
    std::vector<bool> done(conns.size());
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      short ev = fds[i + 2].revents;
      if (now >= c.deadline || (ev & (POLLERR | POLLNVAL))) {
        done[i] = true;
      } else if ((ev & (POLLIN | POLLHUP)) && (c.out.empty() || c.draining)) {
        char buf[4096];
        ssize_t n = recv(c.fd.get(), buf, sizeof buf, 0);
        if (n <= 0) {
          done[i] = n == 0 || (errno != EAGAIN && errno != EINTR);
        } else if (!c.draining) {
          c.in.append(buf, static_cast<size_t>(n));
          HttpResponse r;
          size_t end = c.in.find("\r\n\r\n");
          if (c.in.size() > kMaxRequestBytes && (end == std::string::npos || end + 4 > kMaxRequestBytes)) {
            r = {431, "Request Header Fields Too Large", "text/plain; charset=utf-8", "request head too large\n"};
          } else if (end != std::string::npos) {
            r = answer_http(c.in.substr(0, end + 4), [&](bool openmetrics) { return collector.scrape(openmetrics, std::cerr); });
          } else {
            continue;
          }
          c.out = http_bytes(r);
          c.deadline = Clock::now() + limits.write;
        }
      } else if ((ev & POLLOUT) && !c.draining) {
        ssize_t n = send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) done[i] = true;
        if (n > 0) c.sent += static_cast<size_t>(n);
        if (c.sent == c.out.size()) {
          // Closing with unread input would reset the connection and could
          // cut the response short: shut the write side, read to EOF.
          shutdown(c.fd.get(), SHUT_WR);
          c.draining = true;
        }
      } else if (ev & POLLHUP) {
        done[i] = true;
      }
    }
    for (size_t i = conns.size(); i-- > 0;)
      if (done[i]) conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
    if (fds[1].revents & POLLIN) {
      for (;;) {
        // The oldest still owing its request head (conns are in accept order).
        auto idle = std::find_if(conns.begin(), conns.end(), waiting_for_head);
        if (conns.size() >= kMaxConnections && idle == conns.end()) break;
        int fd = accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (conns.size() >= kMaxConnections) conns.erase(idle);
        conns.push_back(Connection{Fd(fd), {}, {}, 0, false, Clock::now() + limits.head});
      }
    }
  }
  std::cout << "netsql serve: stopped" << std::endl;
  return 0;
}

}  // namespace

HttpResponse answer_http(const std::string& request, const std::function<std::string(bool)>& metrics) {
  HttpResponse r;
  size_t eol = request.find("\r\n");
  std::string line = request.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 7, "HTTP/1.") != 0)
    return {400, "Bad Request", r.content_type, "bad request line\n"};
  std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") return {405, "Method Not Allowed", r.content_type, "only GET and HEAD\n"};
  r.head = method == "HEAD";
  if (path == "/") {
    r.body = "netsql serve: the metrics are at /metrics\n";
    return r;
  }
  if (path != "/metrics") return {404, "Not Found", r.content_type, "not found; the metrics are at /metrics\n", r.head};
  bool openmetrics = false;
  for (size_t at = eol; at != std::string::npos && at + 2 < request.size();) {
    size_t next = request.find("\r\n", at + 2);
    std::string header = request.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
    size_t colon = header.find(':');
    if (colon != std::string::npos && lower(header.substr(0, colon)) == "accept" &&
        lower(header.substr(colon + 1)).find("application/openmetrics-text") != std::string::npos)
      openmetrics = true;
    at = next;
  }
  r.body = metrics(openmetrics);
  r.content_type = openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                               : "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

std::string http_bytes(const HttpResponse& r) {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", r.status,
                     r.reason, r.content_type, r.body.size(), r.head ? "" : r.body);
}

const Command& serve_command() {
  static const Command c{
      "serve",
      "[--listen ADDR:PORT] [--config FILE]",
      std::string("Serves Prometheus metrics over HTTP at /metrics, in the foreground until SIGINT or SIGTERM: "
                  "every scrape runs the metrics queries (the built-in set, or those of --config) and answers in the "
                  "text format 0.0.4, or OpenMetrics when the scraper's Accept header asks for it. A failing query "
                  "sets its netsql_query_error series and never fails the scrape."),
      {
          {"", "--listen", "ADDR:PORT", Arg::Text,
           std::string("address and port to listen on (default ") + kDefaultListen + "; [::1]:PORT for IPv6; port 0 picks a free one)"},
          {"", "--config", "FILE", Arg::File, "the metrics config (JSON); default: the built-in set"},
          {"-h", "--help", "", Arg::None, "print this usage and exit"},
      },
      Arg::None,
      {{"serve --listen 127.0.0.1:9947", "metrics of this host's network state for Prometheus"},
       {"serve --config /usr/share/doc/netsql/examples/metrics.json", "metrics from your own queries"}},
      run_serve_command,
  };
  return c;
}

int run_serve_command(const std::vector<std::string>& args) {
  const Command& cmd = serve_command();
  ParsedCommandLine line;
  if (auto status = parse_command_line(cmd, args, line)) return *status;
  if (!line.operands.empty()) return usage_error(cmd, "unexpected argument '" + line.operands[0] + "'");
  std::string listen = kDefaultListen, config;
  const Option* listen_option = cmd.find("--listen");
  for (const auto& [o, v] : line.options) (o == listen_option ? listen : config) = v;
  auto address = parse_listen(listen);
  if (!address)
    return usage_error(cmd, option_needs(*listen_option, "ADDR:PORT (an IPv4 address, or an IPv6 one in brackets, and a port from 0 to 65535)"));
  try {
    return serve(*address, config.empty() ? default_metrics() : load_metrics_config(config));
  } catch (const std::exception& e) {
    std::cerr << "netsql serve: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace netsql::shell
