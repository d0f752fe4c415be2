// What the most recent scan of each sock_diag table (tcp_sockets,
// udp_sockets) asked the kernel for and what it got back, per thread; the
// netsql_stats table shows it. Per thread because a cursor is not told its
// connection; SQLite steps a statement on the caller's thread, so a query
// followed by a look at netsql_stats sees that query's scans.
#pragma once

#include <cstdint>
#include <string_view>

#include "kernel/netlink.h"

namespace netsql::vt {

struct SockDiagScan {
  uint64_t number = 0;        // this thread's scans of the table so far, this one included
  uint32_t state_mask = 0;    // idiag_states sent
  uint8_t extensions = 0;     // idiag_ext sent
  uint8_t bytecode_held = 0;  // kernel::Condition bits the bytecode checked
  uint8_t left_out = 0;       // kernel::Condition bits too long for the bytecode
  uint32_t bytecode_bytes = 0;
  kernel::DumpCounters received;
};

enum class ScannedTable { Tcp, Udp };
inline constexpr ScannedTable kScannedTables[] = {ScannedTable::Tcp, ScannedTable::Udp};
std::string_view table_name(ScannedTable t);

// Records the start of a scan of `t` described by `scan` (its number and
// counters are filled in here); returns the scan's number.
uint64_t begin_scan(ScannedTable t, SockDiagScan scan);
// What scan `number` of `t` has received so far; ignored once a newer scan
// of `t` has begun (a self-join interleaves two).
void scan_progress(ScannedTable t, uint64_t number, const kernel::DumpCounters& received);
// The most recent scan of `t` in this thread (number 0: none yet).
SockDiagScan last_scan(ScannedTable t);

}  // namespace netsql::vt
