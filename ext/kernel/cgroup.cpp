#include "kernel/cgroup.h"

#include <algorithm>

namespace netsql::kernel {

namespace {

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The id in "<prefix><64 hex><suffix>", or nullopt.
std::optional<std::string_view> wrapped_id(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (!starts(name, prefix) || !ends(name, suffix)) return std::nullopt;
  std::string_view id = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return hex64(id) ? std::optional(id) : std::nullopt;
}

// The container id one path component names, given the component before
// it (its parent) and whether a kubepods component is above it.
std::optional<std::string_view> component_id(std::string_view parent, std::string_view name, bool under_kubepods) {
  for (std::string_view prefix : {"docker-", "cri-containerd-", "crio-", "libpod-"})
    if (auto id = wrapped_id(name, prefix, ".scope")) return id;
  for (std::string_view prefix : {"libpod-", "crio-"})  // cgroupfs drivers
    if (auto id = wrapped_id(name, prefix, "")) return id;
  if (hex64(name) && (parent == "docker" || (under_kubepods && starts(parent, "pod")))) return name;
  if (parent == "lxc" && !name.empty()) return name;
  if (starts(name, "lxc.payload.") && name.size() > 12) return name.substr(12);
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> cgroup_v2_path(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (starts(line, "0::")) return line.substr(3);
  }
  return std::nullopt;
}

std::optional<std::string_view> container_id(std::string_view path) {
  std::optional<std::string_view> found;
  std::string_view parent;
  bool kubepods = false;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (name.empty()) continue;
    if (auto id = component_id(parent, name, kubepods)) found = id;  // the innermost wins
    kubepods = kubepods || starts(name, "kubepods");
    parent = name;
  }
  return found;
}

std::optional<std::string_view> systemd_unit(std::string_view path) {
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (name.size() > 8 && ends(name, ".service")) return name;
    if (name.size() > 6 && ends(name, ".scope")) return name;
  }
  return std::nullopt;
}

}  // namespace netsql::kernel
