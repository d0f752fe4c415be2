// rtnetlink RTM_NEWNEIGH messages: ndmsg and its attributes
// (kernel::parse_neighbor, behind neighbors).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWNEIGH);
  if (!m) return 0;
  auto r = netsql::kernel::parse_neighbor(m.get());
  FUZZ_CHECK(r.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(ndmsg))));
  return 0;
}
