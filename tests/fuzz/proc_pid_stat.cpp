// /proc/PID/stat: pid, (comm), then numbered fields; the name may hold
// spaces and parentheses (kernel::parse_proc_stat, behind processes).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = netsql::fuzz::text(data, size);
  if (auto s = netsql::kernel::parse_proc_stat(in)) FUZZ_CHECK(s->comm.size() + 2 < in.size());
  return 0;
}
