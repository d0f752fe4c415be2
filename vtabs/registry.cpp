#include "vtabs/registry.h"

#include "vtabs/tables.h"

namespace netsql::vt {

std::span<const TableDef* const> all_tables() {
  static const TableDef* const kAll[] = {&kTcpSockets, &kUdpSockets, &kRoutes, &kRouteGet, &kInterfaces, &kInterfaceAddresses, &kNeighbors,
                                        &kUnixSockets, &kRawSockets, &kSocketOwners, &kProcesses, &kProtocolStats, &kMulticastGroups,
                                        &kNetworkNamespaces, &kServices, &kHosts, &kNetsqlStats, &kProcessOpenFiles,
                                        &kFirewallRules, &kFirewallChains, &kInterfaceSettings, &kInterfaceDetails, &kClosedSockets,
                                        &kPacketSockets, &kNetlinkSockets, &kConntrack};
  return kAll;
}

}  // namespace netsql::vt
