// The nftables listing (nft -a -y list ruleset; kernel::parse_nft_listing,
// behind firewall_rules and firewall_chains).
#include "fuzz.h"
#include "kernel/nft.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto rs = netsql::kernel::parse_nft_listing(netsql::fuzz::text(data, size));
  int64_t rules = 0;
  for (const auto& c : rs.chains) {
    FUZZ_CHECK(c.rules >= 0);
    rules += c.rules;
  }
  FUZZ_CHECK(rules == static_cast<int64_t>(rs.rules.size()));
  for (const auto& r : rs.rules) {
    FUZZ_CHECK(r.position >= 1 && r.text.find('\n') == std::string::npos);
    FUZZ_CHECK(r.packets.has_value() == r.bytes.has_value());
  }
  return 0;
}
