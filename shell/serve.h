// `netsql serve`: a small HTTP/1.1 server (one thread, a poll loop) whose
// /metrics runs the metrics queries on every scrape (shell/metrics.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace netsql::shell {

inline constexpr const char* kDefaultListen = "127.0.0.1:9947";

// `netsql serve ARGS...` (the arguments after "serve"): parse, serve until
// SIGINT/SIGTERM, return the exit status.
int run_serve_command(const std::vector<std::string>& args);

// What an HTTP request gets: the status line's code and reason, the
// Content-Type and the body.
struct HttpResponse {
  int status = 200;
  std::string reason = "OK", content_type = "text/plain; charset=utf-8", body;
  bool head = false;  // HEAD: headers only
};
// Answers a request head (request line and headers, up to the blank
// line): GET or HEAD of /metrics is `metrics(openmetrics)`, OpenMetrics
// when the Accept header names application/openmetrics-text; / is a
// pointer there; anything else a 404, 405 or 400.
HttpResponse answer_http(const std::string& request, const std::function<std::string(bool openmetrics)>& metrics);

// The response bytes, with Content-Length and Connection: close.
std::string http_bytes(const HttpResponse& r);

}  // namespace netsql::shell
