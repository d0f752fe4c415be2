// /proc/net/snmp and /proc/net/netstat: "Proto: names" / "Proto: values"
// line pairs (kernel::parse_snmp_pairs, behind protocol_stats).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<netsql::kernel::Counter> out;
  netsql::kernel::parse_snmp_pairs(netsql::fuzz::text(data, size), out);
  for (const auto& c : out) {
    FUZZ_CHECK(!c.protocol.empty() && c.protocol.find_first_of(":\n") == std::string::npos);
    FUZZ_CHECK(!c.name.empty() && c.name.find_first_of(" \t\n") == std::string::npos);
  }
  return 0;
}
