// /proc/net/dev_mcast: one link-layer group per line
// (kernel::parse_dev_mcast, behind multicast_groups).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<netsql::kernel::McastGroup> out;
  netsql::kernel::parse_dev_mcast(netsql::fuzz::text(data, size), out);
  for (const auto& g : out) {
    FUZZ_CHECK(g.family == "link");
    FUZZ_CHECK(!g.interface.empty() && !g.group.empty());
  }
  return 0;
}
