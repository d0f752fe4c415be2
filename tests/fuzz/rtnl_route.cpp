// rtnetlink RTM_NEWROUTE messages: rtmsg and its attributes
// (kernel::parse_route, behind routes).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWROUTE);
  if (!m) return 0;
  auto r = netsql::kernel::parse_route(m.get());
  FUZZ_CHECK(r.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(rtmsg))));
  if (r) FUZZ_CHECK(!r->nexthops.empty());  // "at least one (possibly empty) entry"
  return 0;
}
