// /proc/net/igmp: an interface line, then its IPv4 groups
// (kernel::parse_igmp, behind multicast_groups).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<netsql::kernel::McastGroup> out;
  netsql::kernel::parse_igmp(netsql::fuzz::text(data, size), out);
  for (const auto& g : out) {
    FUZZ_CHECK(g.family == "inet");
    FUZZ_CHECK(!g.interface.empty() && !g.group.empty());
  }
  return 0;
}
