// Strict parsing of numbers a user typed (options, config values): the
// whole text must be the number, it must be finite and inside the range the
// caller allows. Anything else is nullopt, and the caller names the option
// in its error. One place for this, so `--watch 2abc`, `nan` and `1e308`
// are refused the same way everywhere.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace netsql::shell {

// A decimal integer (optional leading '-'), nothing else, within [lo, hi].
inline std::optional<int64_t> parse_int(std::string_view text, int64_t lo, int64_t hi) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  std::string s(text);
  const char* b = s.c_str();
  if (!(*b == '-' || (*b >= '0' && *b <= '9'))) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(b, &end, 10);
  if (errno == ERANGE || end == b || *end) return std::nullopt;
  if (v < lo || v > hi) return std::nullopt;
  return static_cast<int64_t>(v);
}

// A finite decimal number (no hex, inf or nan), nothing else, within [lo, hi].
inline std::optional<double> parse_real(std::string_view text, double lo, double hi) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno == ERANGE || end == s.c_str() || *end || !std::isfinite(v)) return std::nullopt;
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

// Limits shared by every time value a user gives (seconds).
inline constexpr double kMinIntervalS = 0.001;                  // below a millisecond a repeat is a busy loop
inline constexpr double kMaxIntervalS = 366.0 * 24 * 3600;      // a year between runs
inline constexpr int64_t kMaxAgeS = int64_t{100} * 366 * 24 * 3600;  // a century of history

}  // namespace netsql::shell
