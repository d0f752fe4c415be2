// rtnetlink RTM_NEWADDR messages: ifaddrmsg and its attributes
// (kernel::parse_address, behind interface_addresses).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWADDR);
  if (!m) return 0;
  auto r = netsql::kernel::parse_address(m.get());
  FUZZ_CHECK(r.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(ifaddrmsg))));
  return 0;
}
