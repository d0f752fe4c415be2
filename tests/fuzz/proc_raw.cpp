// /proc/net/raw and raw6: one socket per line, addresses as host-endian
// hex words (kernel::parse_proc_raw, behind raw_sockets).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<netsql::kernel::RawSock> out;
  netsql::kernel::parse_proc_raw(netsql::fuzz::text(data, size), out);
  for (const auto& s : out) {
    FUZZ_CHECK(s.family == "inet" || s.family == "inet6");
    FUZZ_CHECK(!s.local.empty() && !s.remote.empty());
  }
  return 0;
}
