#include "vtabs/scan_stats.h"

#include <array>
#include <type_traits>

namespace netsql::vt {

namespace {

// Trivially destructible, so a thread's record needs no exit handler (the
// extension may be unloaded while threads that used it live on).
static_assert(std::is_trivially_destructible_v<SockDiagScan>);
thread_local std::array<SockDiagScan, std::size(kScannedTables)> t_last;

SockDiagScan& slot(ScannedTable t) { return t_last[static_cast<size_t>(t)]; }

}  // namespace

std::string_view table_name(ScannedTable t) { return t == ScannedTable::Tcp ? "tcp_sockets" : "udp_sockets"; }

uint64_t begin_scan(ScannedTable t, SockDiagScan scan) {
  scan.number = slot(t).number + 1;
  scan.received = {};
  slot(t) = scan;
  return scan.number;
}

void scan_progress(ScannedTable t, uint64_t number, const kernel::DumpCounters& received) {
  if (slot(t).number == number) slot(t).received = received;
}

SockDiagScan last_scan(ScannedTable t) { return slot(t); }

}  // namespace netsql::vt
