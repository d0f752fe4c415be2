// /proc/net/igmp6: one IPv6 group per line
// (kernel::parse_igmp6, behind multicast_groups).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<netsql::kernel::McastGroup> out;
  netsql::kernel::parse_igmp6(netsql::fuzz::text(data, size), out);
  for (const auto& g : out) {
    FUZZ_CHECK(g.family == "inet6");
    FUZZ_CHECK(!g.interface.empty() && !g.group.empty());
  }
  return 0;
}
