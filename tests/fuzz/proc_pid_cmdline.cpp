// /proc/PID/cmdline: NUL-separated arguments joined by spaces
// (kernel::join_cmdline, behind processes).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s = netsql::kernel::join_cmdline(netsql::fuzz::text(data, size));
  FUZZ_CHECK(s.size() <= size && s.find('\0') == std::string::npos);
  return 0;
}
