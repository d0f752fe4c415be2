// rtnetlink RTM_NEWLINK messages: the devconf arrays in IFLA_AF_SPEC
// (kernel::parse_devconf, behind interface_settings).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/devconf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWLINK);
  if (!m) return 0;
  auto d = netsql::kernel::parse_devconf(m.get());
  // IPv4 values are u32, IPv6 ones s32.
  for (const auto& v : {d.ipv4_forwarding, d.rp_filter, d.accept_redirects})
    FUZZ_CHECK(!v || (*v >= 0 && *v <= 0xffffffffLL));
  for (const auto& v : {d.ipv6_forwarding, d.accept_ra, d.disable_ipv6, d.hop_limit, d.mtu6})
    FUZZ_CHECK(!v || (*v >= INT32_MIN && *v <= INT32_MAX));
  return 0;
}
