// Parses the nftables listing (nft -a -y list ruleset): tables, chains and
// rules by indentation, the rule text as printed, counters and comments
// from it. No I/O here: see nft_read.cpp.
#include "kernel/nft.h"

#include <charconv>

namespace netsql::kernel {
namespace {

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// "<head> { # handle N": head and N; nullopt for any other line.
std::optional<std::pair<std::string_view, int64_t>> block_start(std::string_view line) {
  constexpr std::string_view kMark = " { # handle ";
  size_t at = line.rfind(kMark);
  if (at == std::string_view::npos) return std::nullopt;
  auto handle = to_int(line.substr(at + kMark.size()));
  if (!handle) return std::nullopt;
  return std::pair{line.substr(0, at), *handle};
}

// The word after `key` in `line` ("hook input" -> "input"), up to a space or ';'.
std::optional<std::string> word_after(std::string_view line, std::string_view key) {
  for (size_t at = line.find(key); at != std::string_view::npos; at = line.find(key, at + 1)) {
    if (at != 0 && line[at - 1] != ' ') continue;
    std::string_view rest = line.substr(at + key.size());
    std::string_view w = rest.substr(0, rest.find_first_of(" ;"));
    if (w.size() >= 2 && w.front() == '"' && w.back() == '"') w = w.substr(1, w.size() - 2);
    if (!w.empty()) return std::string(w);
  }
  return std::nullopt;
}

// "type filter hook input device "lo" priority 0; policy drop;"
void parse_chain_type(std::string_view line, NftChain& c) {
  c.type = word_after(line, "type ");
  c.hook = word_after(line, "hook ");
  c.device = word_after(line, "device ");
  if (auto p = word_after(line, "priority ")) c.priority = to_int(*p);
  c.policy = word_after(line, "policy ");
  if (size_t d = line.find("devices = { "); d != std::string_view::npos) {
    std::string_view rest = line.substr(d + 12);
    if (size_t e = rest.find(" }"); e != std::string_view::npos) c.device = std::string(rest.substr(0, e));
  }
}

// Adds "counter packets A bytes B" statements outside quoted strings.
void parse_counters(std::string_view text, NftRule& r) {
  constexpr std::string_view kPackets = "counter packets ", kBytes = " bytes ";
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (quoted || (i && text[i - 1] != ' ') || text.substr(i, kPackets.size()) != kPackets) continue;
    std::string_view rest = text.substr(i + kPackets.size());
    size_t sp = rest.find(' ');
    auto packets = to_int(rest.substr(0, sp));
    if (!packets || sp == std::string_view::npos || rest.substr(sp, kBytes.size()) != kBytes) continue;
    rest = rest.substr(sp + kBytes.size());
    auto bytes = to_int(rest.substr(0, rest.find(' ')));
    if (!bytes) continue;
    r.packets = r.packets.value_or(0) + *packets;
    r.bytes = r.bytes.value_or(0) + *bytes;
  }
}

// nft prints a rule's comment last: ... comment "text" (a comment holds no quote).
std::optional<std::string> parse_comment(std::string_view text) {
  constexpr std::string_view kMark = " comment \"";
  size_t at = text.rfind(kMark);
  // The closing quote must follow the opening one: a line ending in the
  // mark itself (` comment "`) has none (found by fuzz_nft_listing).
  if (at == std::string_view::npos || text.size() <= at + kMark.size() || text.back() != '"') return std::nullopt;
  std::string_view c = text.substr(at + kMark.size());
  c.remove_suffix(1);
  if (c.find('"') != std::string_view::npos) return std::nullopt;
  return std::string(c);
}

}  // namespace

Ruleset parse_nft_listing(std::string_view text) {
  Ruleset out;
  std::string family, table;
  bool in_table = false, in_chain = false;
  int64_t position = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t tabs = line.find_first_not_of('\t');
    if (tabs == std::string_view::npos) continue;  // blank
    std::string_view body = line.substr(tabs);
    if (tabs == 0) {  // "table FAMILY NAME {" or its closing brace
      in_table = in_chain = false;
      auto b = block_start(body);
      if (!b || !b->first.starts_with("table ")) continue;
      std::string_view head = b->first.substr(6);
      size_t sp = head.find(' ');
      if (sp == std::string_view::npos) continue;
      family = head.substr(0, sp);
      table = head.substr(sp + 1);
      in_table = true;
    } else if (tabs == 1) {  // "chain NAME {", another block (set, map, ...), or a closing brace
      in_chain = false;
      auto b = block_start(body);
      if (!in_table || !b || !b->first.starts_with("chain ")) continue;
      NftChain& c = out.chains.emplace_back();
      c.family = family;
      c.table = table;
      c.name = b->first.substr(6);
      c.handle = b->second;
      in_chain = true;
      position = 0;
    } else if (tabs == 2 && in_chain) {  // the base chain's type line, or a rule
      NftChain& chain = out.chains.back();
      constexpr std::string_view kHandle = " # handle ";
      size_t at = body.rfind(kHandle);
      auto handle = at == std::string_view::npos ? std::nullopt : to_int(body.substr(at + kHandle.size()));
      if (!handle) {
        if (position == 0 && body.starts_with("type ")) parse_chain_type(body, chain);
        continue;
      }
      NftRule r;
      r.family = family;
      r.table = table;
      r.chain = chain.name;
      r.handle = *handle;
      r.position = ++position;
      r.text = body.substr(0, at);
      parse_counters(r.text, r);
      r.comment = parse_comment(r.text);
      ++chain.rules;
      out.rules.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace netsql::kernel
