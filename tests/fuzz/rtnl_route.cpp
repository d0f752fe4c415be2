// rtnetlink RTM_NEWROUTE messages: rtmsg and its attributes
// (kernel::RouteMessage, behind routes and route_get).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWROUTE);
  if (!m) return 0;
  netsql::kernel::RouteMessage r;
  bool parsed = r.parse(m.get());
  FUZZ_CHECK(parsed == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(rtmsg))));
  rtmsg h;
  netsql::kernel::Bytes dst;
  FUZZ_CHECK(netsql::kernel::RouteMessage::peek(m.get(), h, dst) == parsed);
  if (!parsed) return 0;
  FUZZ_CHECK(r.nexthop_count() >= 1);  // "at least one (possibly empty)"
  r.destination(), r.source(), r.prefsrc(), r.table(), r.priority(), r.metric(RTAX_MTU), r.expires_ms();
  for (size_t i = 0; i < r.nexthop_count(); ++i) r.nexthop(i).gateway_text();
  return 0;
}
