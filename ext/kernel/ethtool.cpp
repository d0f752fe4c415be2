// The SIOCETHTOOL calls behind kernel::Ethtool (see ethtool.h).
#include "kernel/ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <system_error>

#include "kernel/netns.h"

namespace netsql::kernel {

std::string_view port_name(uint8_t port) {
  switch (port) {
    case PORT_TP: return "tp";
    case PORT_AUI: return "aui";
    case PORT_BNC: return "bnc";
    case PORT_MII: return "mii";
    case PORT_FIBRE: return "fibre";
    case PORT_DA: return "da";
    case PORT_NONE: return "none";
    case PORT_OTHER: return "other";
    default: return "";
  }
}

Ethtool::Ethtool(const Netns& ns) {
  fd_ = ns.run([] { return Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); });
  if (!fd_) throw std::system_error(errno, std::generic_category(), "ethtool: cannot open a socket");
}

bool Ethtool::call(std::string_view ifname, void* data) const {
  ifreq ifr{};
  if (ifname.empty() || ifname.size() >= sizeof ifr.ifr_name) return false;  // IFNAMSIZ
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_data = static_cast<char*>(data);
  return ::ioctl(fd_.get(), SIOCETHTOOL, &ifr) == 0;
}

std::optional<LinkSettings> Ethtool::link_settings(std::string_view ifname) const {
  // The handshake: asked with 0 mask words, the kernel answers with minus
  // the number it uses; then asked with that many (the masks follow the
  // struct, so it is copied in and out of a buffer).
  alignas(ethtool_link_settings) uint8_t buf[sizeof(ethtool_link_settings) + 3 * 127 * sizeof(uint32_t)] = {};
  ethtool_link_settings s{};  // link_mode_masks_nwords is an int8: 127 words at most
  s.cmd = ETHTOOL_GLINKSETTINGS;
  std::memcpy(buf, &s, sizeof s);
  if (!call(ifname, buf)) return std::nullopt;
  std::memcpy(&s, buf, sizeof s);
  if (s.link_mode_masks_nwords >= 0) return std::nullopt;
  int8_t words = static_cast<int8_t>(-s.link_mode_masks_nwords);
  if (words <= 0) return std::nullopt;
  s = ethtool_link_settings{};
  s.cmd = ETHTOOL_GLINKSETTINGS;
  s.link_mode_masks_nwords = words;
  std::memset(buf, 0, sizeof buf);
  std::memcpy(buf, &s, sizeof s);
  if (!call(ifname, buf)) return std::nullopt;
  std::memcpy(&s, buf, sizeof s);
  if (s.link_mode_masks_nwords != words) return std::nullopt;
  LinkSettings out;
  if (s.speed != 0 && s.speed != static_cast<uint32_t>(SPEED_UNKNOWN)) out.speed_mbps = s.speed;
  if (s.duplex == DUPLEX_HALF) out.duplex = "half";
  if (s.duplex == DUPLEX_FULL) out.duplex = "full";
  out.autoneg = s.autoneg == AUTONEG_ENABLE ? 1 : 0;
  if (auto p = port_name(s.port); !p.empty()) out.port = std::string(p);
  return out;
}

std::optional<DriverInfo> Ethtool::driver_info(std::string_view ifname) const {
  ethtool_drvinfo d{};
  d.cmd = ETHTOOL_GDRVINFO;
  if (!call(ifname, &d)) return std::nullopt;
  auto text = [](const char* field, size_t size) { return std::string(field, strnlen(field, size)); };
  return DriverInfo{text(d.driver, sizeof d.driver), text(d.version, sizeof d.version),
                    text(d.fw_version, sizeof d.fw_version), text(d.bus_info, sizeof d.bus_info)};
}

}  // namespace netsql::kernel
