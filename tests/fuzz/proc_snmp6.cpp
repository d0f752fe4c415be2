// /proc/net/snmp6: "Ip6InReceives 42" lines (kernel::parse_snmp6, behind
// protocol_stats).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<netsql::kernel::Counter> out;
  netsql::kernel::parse_snmp6(netsql::fuzz::text(data, size), out);
  for (const auto& c : out) {
    FUZZ_CHECK(c.protocol.empty() || c.protocol.back() == '6');
    FUZZ_CHECK(!c.name.empty() && c.name.find_first_of(" \t\n") == std::string::npos);
  }
  return 0;
}
