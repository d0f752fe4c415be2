// /proc/stat: the boot time on its "btime" line (kernel::parse_boot_time,
// behind processes).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::kernel::parse_boot_time(netsql::fuzz::text(data, size));
  return 0;
}
