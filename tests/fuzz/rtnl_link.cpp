// rtnetlink RTM_NEWLINK messages: ifinfomsg and its attributes
// (kernel::parse_link, behind interfaces).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWLINK);
  if (!m) return 0;
  auto r = netsql::kernel::parse_link(m.get());
  FUZZ_CHECK(r.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(ifinfomsg))));
  return 0;
}
