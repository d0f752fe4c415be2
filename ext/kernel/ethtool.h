// Link details of one interface through the SIOCETHTOOL ioctl, as
// `ethtool IF` (ETHTOOL_GLINKSETTINGS) and `ethtool -i IF`
// (ETHTOOL_GDRVINFO) read them: both unprivileged, both answered by every
// kernel since 4.6, driver info has no ethtool netlink message at all. The
// ioctl socket is created in the namespace (a socket keeps the namespace it
// was made in); queries then run on the calling thread. Part of the kernel layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/fd.h"

namespace netsql::kernel {

class Netns;

struct LinkSettings {
  std::optional<int64_t> speed_mbps;    // absent when unknown (no carrier, virtual)
  std::optional<std::string> duplex;    // "half", "full"; absent when unknown
  std::optional<int64_t> autoneg;       // 1 on, 0 off
  std::optional<std::string> port;      // "tp", "fibre", "da", "none", ... as ethtool names them
};

struct DriverInfo {
  std::string driver, version, firmware, bus_info;  // "" when the driver gives none
};

// ethtool's names for a port byte (PORT_TP -> "tp", ...); "" for one it does not know.
std::string_view port_name(uint8_t port);

class Ethtool {
 public:
  explicit Ethtool(const Netns& ns);
  // nullopt when the driver does not answer (EOPNOTSUPP: lo, tunnels) or
  // the interface is gone.
  std::optional<LinkSettings> link_settings(std::string_view ifname) const;
  std::optional<DriverInfo> driver_info(std::string_view ifname) const;

 private:
  bool call(std::string_view ifname, void* data) const;
  Fd fd_;
};

}  // namespace netsql::kernel
