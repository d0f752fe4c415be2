#include "kernel/procfs.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <utility>

#include "kernel/rtnl_names.h"
#include "kernel/sock_diag.h"

namespace netsql::kernel {

namespace {

// Splits off the next line (without '\n').
std::string_view next_line(std::string_view& text) {
  size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  return line;
}

// Splits off the next whitespace-separated token; "" at the end.
std::string_view next_token(std::string_view& s) {
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  size_t e = b;
  while (e < s.size() && !std::isspace(static_cast<unsigned char>(s[e]))) ++e;
  std::string_view t = s.substr(b, e - b);
  s = s.substr(e);
  return t;
}

template <class T>
std::optional<T> number(std::string_view t, int base = 10) {
  T v{};
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (ec != std::errc() || p != t.data() + t.size() || t.empty()) return std::nullopt;
  return v;
}

}  // namespace

void parse_snmp_pairs(std::string_view text, std::vector<Counter>& out) {
  std::string_view header;
  std::string_view header_proto;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      header = {};
      continue;
    }
    std::string_view proto = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    if (header.empty() || proto != header_proto) {  // a (new) header line
      header = rest;
      header_proto = proto;
      continue;
    }
    std::string_view names = header;
    for (;;) {
      std::string_view name = next_token(names), value = next_token(rest);
      if (name.empty() || value.empty()) break;
      if (auto v = number<int64_t>(value)) out.push_back({std::string(proto), std::string(name), *v});
    }
    header = {};
  }
}

void parse_snmp6(std::string_view text, std::vector<Counter>& out) {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    std::string_view full = next_token(line), value = next_token(line);
    auto v = number<int64_t>(value);
    if (full.empty() || !v) continue;
    size_t six = full.find('6');
    if (six == std::string_view::npos || six + 1 >= full.size()) {
      out.push_back({"", std::string(full), *v});
      continue;
    }
    out.push_back({std::string(full.substr(0, six + 1)), std::string(full.substr(six + 1)), *v});
  }
}

void parse_igmp(std::string_view text, std::vector<McastGroup>& out) {
  next_line(text);  // column titles
  int index = 0;
  std::string dev;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.empty()) continue;
    if (line[0] != '\t' && line[0] != ' ') {  // "1\tlo        :     1      V3"
      std::string_view rest = line;
      auto idx = number<int>(next_token(rest));
      std::string_view name = next_token(rest);
      if (!idx || name.empty()) {
        dev.clear();
        continue;
      }
      index = *idx;
      dev = std::string(name);
      if (!dev.empty() && dev.back() == ':') dev.pop_back();
      continue;
    }
    if (dev.empty()) continue;
    std::string_view rest = line;  // "\t\t\t\t010000E0     1 0:00000000\t\t0"
    auto group = number<uint32_t>(next_token(rest), 16);
    auto users = number<int64_t>(next_token(rest));
    if (!group || !users) continue;
    uint32_t raw = *group;  // the kernel prints the network-order word as a host integer
    out.push_back({index, dev, "inet", address_text(AF_INET, &raw), "igmp", *users});
  }
}

void parse_igmp6(std::string_view text, std::vector<McastGroup>& out) {
  while (!text.empty()) {
    std::string_view rest = next_line(text);
    auto idx = number<int>(next_token(rest));
    std::string_view dev = next_token(rest), hex = next_token(rest);
    auto users = number<int64_t>(next_token(rest));
    if (!idx || dev.empty() || hex.size() != 32 || !users) continue;
    uint8_t addr[16];
    bool ok = true;
    for (int i = 0; i < 16 && ok; ++i) {
      auto b = number<uint8_t>(hex.substr(static_cast<size_t>(i) * 2, 2), 16);
      ok = b.has_value();
      if (b) addr[i] = *b;
    }
    if (ok) out.push_back({*idx, std::string(dev), "inet6", address_text(AF_INET6, addr), "igmp6", *users});
  }
}

void parse_dev_mcast(std::string_view text, std::vector<McastGroup>& out) {
  while (!text.empty()) {
    std::string_view rest = next_line(text);
    auto idx = number<int>(next_token(rest));
    std::string_view dev = next_token(rest);
    auto users = number<int64_t>(next_token(rest));
    next_token(rest);  // global use
    std::string_view hex = next_token(rest);
    if (!idx || dev.empty() || !users || hex.empty() || hex.size() % 2) continue;
    std::vector<uint8_t> mac;
    for (size_t i = 0; i < hex.size(); i += 2)
      if (auto b = number<uint8_t>(hex.substr(i, 2), 16)) mac.push_back(*b);
    if (mac.size() * 2 != hex.size()) continue;
    out.push_back({*idx, std::string(dev), "link", mac_text(mac.data(), mac.size()), "link", *users});
  }
}

namespace {

// "0100007F:0001" (IPv4) or 32 hex digits ":" port (IPv6): each 32-bit word
// is printed as a host-endian integer.
std::optional<std::pair<std::string, int>> proc_endpoint(std::string_view t) {
  size_t colon = t.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view hex = t.substr(0, colon);
  auto port = number<int>(t.substr(colon + 1), 16);
  if (!port || (hex.size() != 8 && hex.size() != 32)) return std::nullopt;
  uint32_t words[4];
  for (size_t i = 0; i < hex.size() / 8; ++i) {
    auto w = number<uint32_t>(hex.substr(i * 8, 8), 16);
    if (!w) return std::nullopt;
    words[i] = *w;
  }
  return std::make_pair(address_text(hex.size() == 8 ? AF_INET : AF_INET6, words), *port);
}

}  // namespace

void parse_proc_raw(std::string_view text, std::vector<RawSock>& out) {
  next_line(text);  // column titles
  while (!text.empty()) {
    std::string_view rest = next_line(text);
    next_token(rest);  // "sl:"
    auto local = proc_endpoint(next_token(rest));
    auto remote = proc_endpoint(next_token(rest));
    auto state = number<int>(next_token(rest), 16);
    std::string_view queues = next_token(rest);
    next_token(rest);  // tr:when
    next_token(rest);  // retransmits
    auto uid = number<uint32_t>(next_token(rest));
    next_token(rest);  // timeout
    auto inode = number<uint64_t>(next_token(rest));
    next_token(rest);  // ref
    next_token(rest);  // pointer
    auto drops = number<int64_t>(next_token(rest));
    size_t qc = queues.find(':');
    if (!local || !remote || !state || !uid || !inode || qc == std::string_view::npos) continue;
    auto tx = number<int64_t>(queues.substr(0, qc), 16), rx = number<int64_t>(queues.substr(qc + 1), 16);
    if (!tx || !rx) continue;
    bool v6 = local->first.find(':') != std::string::npos;
    out.push_back({v6 ? "inet6" : "inet", local->first, remote->first, local->second, *state, *tx, *rx, drops,
                   *uid, *inode});
  }
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  ProcStat s;
  auto pid = number<int>(text.substr(0, open > 0 ? open - 1 : 0));
  if (!pid) return std::nullopt;
  s.pid = *pid;
  s.comm = text.substr(open + 1, close - open - 1);
  std::string_view rest = text.substr(close + 1);
  // Fields 3 (state) to 24 (rss), numbered as in proc(5).
  std::string_view f[22];
  for (auto& t : f)
    if ((t = next_token(rest)).empty()) return std::nullopt;
  auto field = [&](int k) { return f[k - 3]; };
  auto ppid = number<int>(field(4)), pgrp = number<int>(field(5)), session = number<int>(field(6));
  auto tty = number<int32_t>(field(7)), nice = number<int>(field(19));
  auto utime = number<uint64_t>(field(14)), stime = number<uint64_t>(field(15));
  auto threads = number<int64_t>(field(20));
  auto start = number<uint64_t>(field(22)), vsize = number<uint64_t>(field(23));
  auto rss = number<int64_t>(field(24));
  if (!ppid || !pgrp || !session || !tty || !nice || !utime || !stime || !threads || !start || !vsize || !rss)
    return std::nullopt;
  s.state = field(3)[0];
  s.ppid = *ppid;
  s.pgroup = *pgrp;
  s.session = *session;
  s.tty_nr = static_cast<uint32_t>(*tty);
  s.nice = *nice;
  s.utime_ticks = *utime;
  s.stime_ticks = *stime;
  s.threads = *threads;
  s.start_ticks = *start;
  s.vsize = *vsize;
  s.rss_pages = *rss;
  return s;
}

std::optional<ProcIds> parse_proc_ids(std::string_view text) {
  uint32_t uids[3], gids[3];
  bool have_uid = false, have_gid = false;
  auto three = [](std::string_view line, uint32_t (&out)[3]) {
    for (auto& v : out) {
      auto n = number<uint32_t>(next_token(line));
      if (!n) return false;
      v = *n;
    }
    return true;
  };
  while (!text.empty() && !(have_uid && have_gid)) {
    std::string_view line = next_line(text);
    if (line.rfind("Uid:", 0) == 0) have_uid = three(line.substr(4), uids);
    else if (line.rfind("Gid:", 0) == 0) have_gid = three(line.substr(4), gids);
  }
  if (!have_uid || !have_gid) return std::nullopt;
  return ProcIds{uids[0], uids[1], uids[2], gids[0], gids[1], gids[2]};
}

size_t parse_nspid_count(std::string_view text) {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.rfind("NSpid:", 0) != 0) continue;
    line.remove_prefix(6);
    size_t n = 0;
    while (!next_token(line).empty()) ++n;
    return n;
  }
  return 0;
}

std::optional<std::string> tty_name(uint32_t tty_nr) {
  if (tty_nr == 0) return std::nullopt;
  uint32_t major = (tty_nr >> 8) & 0xfff, minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
  if (major == 4 && minor < 64) return "tty" + std::to_string(minor);
  if (major == 4 && minor < 256) return "ttyS" + std::to_string(minor - 64);
  if (major == 5 && minor == 0) return "tty";
  if (major == 5 && minor == 1) return "console";
  return std::to_string(major) + ":" + std::to_string(minor);
}

namespace {

bool shell_safe(std::string_view arg) {
  if (arg.empty()) return false;
  for (unsigned char c : arg)
    if (!std::isalnum(c) && !std::strchr("@%+=:,./-_", c)) return false;
  return true;
}

// Length of the valid UTF-8 sequence at the start of s (1-4), or 0.
size_t utf8_length(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xc0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xe0 && b(1) < 0xa0) || (c == 0xed && b(1) >= 0xa0)) return 0;  // overlong, surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xf0 && b(1) < 0x90) || (c == 0xf4 && b(1) >= 0x90)) return 0;  // overlong, > U+10FFFF
    return 4;
  }
  return 0;
}

void json_string(std::string_view arg, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!arg.empty()) {
    unsigned char c = static_cast<unsigned char>(arg[0]);
    size_t n = utf8_length(arg);
    if (n == 0) {  // a stray byte: U+F780 + (byte - 0x80)
      out += "\\uf7";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      n = 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out.append(arg.substr(0, n));
    }
    arg.remove_prefix(n);
  }
  out += '"';
}

}  // namespace

void join_cmdline(std::string_view raw, std::string& s) {
  s.clear();
  bool first = true;
  for_each_arg(raw, [&](std::string_view arg) {
    if (!std::exchange(first, false)) s += ' ';
    if (shell_safe(arg)) {
      s.append(arg);
      return;
    }
    s += '\'';
    for (char c : arg) {
      if (c == '\'') s += "'\\''";
      else s += c;
    }
    s += '\'';
  });
}

void cmdline_json(std::string_view raw, std::string& s) {
  s = "[";
  for_each_arg(raw, [&](std::string_view arg) {
    if (s.size() > 1) s += ',';  // after the first argument's string
    json_string(arg, s);
  });
  s += ']';
}

std::optional<int64_t> parse_boot_time(std::string_view text) {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.rfind("btime ", 0) == 0) return number<int64_t>(line.substr(6));
  }
  return std::nullopt;
}

std::optional<uint64_t> bracket_inode(std::string_view link, std::string_view kind) {
  if (link.size() < kind.size() + 3 || link.substr(0, kind.size()) != kind || link[kind.size()] != ':' ||
      link[kind.size() + 1] != '[' || link.back() != ']')
    return std::nullopt;
  return number<uint64_t>(link.substr(kind.size() + 2, link.size() - kind.size() - 3));
}

}  // namespace netsql::kernel
