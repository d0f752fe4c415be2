// interface_details: link speed, duplex, autonegotiation, port and driver of
// every interface, as ethtool IF and ethtool -i IF report them. Interfaces
// are streamed from RTM_GETLINK; each row's ethtool ioctls are made only
// when the query reads one of their columns (SIOCETHTOOL, in the query's
// namespace, unprivileged).
#include "kernel/ethtool.h"
#include "kernel/rtnl.h"
#include "vtabs/rtnl_rows.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { IFINDEX, NAME, SPEED_MBPS, DUPLEX, AUTONEG, PORT, DRIVER, DRIVER_VERSION, FIRMWARE_VERSION, BUS_INFO, kCount };

constexpr std::array<Column, kCount> kColumns{{
    key({"ifindex", Type::Integer, "interface index", kPushEq, 0.01, "the kernel looks up just this link"}),
    {"name", Type::Text, "interface name", kPushEq, 0.01, "the kernel looks up just this link"},
    {"speed_mbps", Type::Integer, "link speed, Mb/s (1000 for 1G, 10000 for 10G); NULL when unknown (no carrier) "
                                  "or the driver does not say (lo, tunnels)"},
    {"duplex", Type::Text, "'full' or 'half'; NULL when unknown"},
    {"autoneg", Type::Integer, "1 when speed and duplex are autonegotiated, else 0; NULL when the driver does not say"},
    {"port", Type::Text, "connector as ethtool names it: tp, fibre, da (direct attach), mii, aui, bnc, none, other"},
    {"driver", Type::Text, "kernel driver (ethtool -i: driver); NULL when the interface has none to report"},
    {"driver_version", Type::Text, "driver version (ethtool -i: version); NULL when empty"},
    {"firmware_version", Type::Text, "firmware version (ethtool -i: firmware-version); NULL when empty"},
    {"bus_info", Type::Text, "bus address, e.g. 0000:03:00.0 (ethtool -i: bus-info); NULL when empty"},
}};

class DetailsCursor final : public RtnlCursor {
 public:
  DetailsCursor() : RtnlCursor("interface_details") {}

 private:
  std::vector<kernel::Request> requests(const Query& q) override {
    netns_ = q.netns;
    ethtool_.reset();
    return link_requests(q, {IFINDEX}, NAME, /*stats*/ false);
  }

  std::vector<int> empty_on() const override { return {ENODEV, EINVAL}; }  // no such link

  bool accept(const nlmsghdr* m) override {
    if (!link_.parse(m)) return false;
    settings_.reset();
    driver_.reset();
    return true;
  }

  const kernel::Ethtool& ethtool() {
    if (!ethtool_) ethtool_.emplace(*netns_);
    return *ethtool_;
  }
  const std::optional<kernel::LinkSettings>& settings() {
    if (!settings_) settings_.emplace(ethtool().link_settings(link_.name()));
    return *settings_;
  }
  const std::optional<kernel::DriverInfo>& driver() {
    if (!driver_) driver_.emplace(ethtool().driver_info(link_.name()));
    return *driver_;
  }

  void column(int col, Cell& out) override {
    switch (col) {
      case IFINDEX: return out.integer(link_.header().ifi_index);
      case NAME: return out.text(link_.name());
      case SPEED_MBPS: return settings() ? out.integer(settings()->speed_mbps) : out.null();
      case DUPLEX: return settings() ? out.maybe_text(settings()->duplex) : out.null();
      case AUTONEG: return settings() ? out.integer(settings()->autoneg) : out.null();
      case PORT: return settings() ? out.maybe_text(settings()->port) : out.null();
      case DRIVER: return driver() ? out.text_or_null(driver()->driver) : out.null();
      case DRIVER_VERSION: return driver() ? out.text_or_null(driver()->version) : out.null();
      case FIRMWARE_VERSION: return driver() ? out.text_or_null(driver()->firmware) : out.null();
      case BUS_INFO: return driver() ? out.text_or_null(driver()->bus_info) : out.null();
      default: return out.null();
    }
  }

  const kernel::Netns* netns_ = nullptr;
  std::optional<kernel::Ethtool> ethtool_;
  kernel::LinkMessage link_;
  std::optional<std::optional<kernel::LinkSettings>> settings_;  // outer: asked yet
  std::optional<std::optional<kernel::DriverInfo>> driver_;
};

}  // namespace

const TableDef kInterfaceDetails{
    "interface_details",
    "Link speed, duplex, autonegotiation, port and driver of each interface, as ethtool and ethtool -i report them "
    "(SIOCETHTOOL; asked only for the columns a query reads).",
    kColumns,
    10,
    [] { return std::unique_ptr<Cursor>(new DetailsCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
