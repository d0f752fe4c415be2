// The table declarations, one per vtabs/<table>.cpp.
#pragma once

#include "vtabs/table.h"

namespace netsql::vt {

extern const TableDef kTcpSockets;
extern const TableDef kUdpSockets;

}  // namespace netsql::vt
