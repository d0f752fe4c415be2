// The table declarations, one per vtabs/<table>.cpp.
#pragma once

#include "vtabs/table.h"

namespace netsql::vt {

extern const TableDef kTcpSockets;
extern const TableDef kUdpSockets;
extern const TableDef kRoutes;
extern const TableDef kRouteGet;
extern const TableDef kInterfaces;
extern const TableDef kInterfaceAddresses;
extern const TableDef kNeighbors;
extern const TableDef kProtocolStats;
extern const TableDef kMulticastGroups;
extern const TableDef kProcesses;
extern const TableDef kSocketOwners;
extern const TableDef kUnixSockets;
extern const TableDef kRawSockets;
extern const TableDef kNetworkNamespaces;
extern const TableDef kNetsqlStats;
extern const TableDef kServices;
extern const TableDef kHosts;
extern const TableDef kProcessOpenFiles;
extern const TableDef kFirewallRules;
extern const TableDef kFirewallChains;
extern const TableDef kInterfaceSettings;
extern const TableDef kInterfaceDetails;
extern const TableDef kClosedSockets;
extern const TableDef kPacketSockets;
extern const TableDef kNetlinkSockets;
extern const TableDef kConntrack;

}  // namespace netsql::vt
