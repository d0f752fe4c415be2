// /proc/PID/status: the real uid and gid (kernel::parse_proc_ids, behind
// processes).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::kernel::parse_proc_ids(netsql::fuzz::text(data, size));
  return 0;
}
