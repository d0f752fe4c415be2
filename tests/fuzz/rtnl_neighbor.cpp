// rtnetlink RTM_NEWNEIGH messages: ndmsg and its attributes
// (kernel::NeighborMessage, behind neighbors).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWNEIGH);
  if (!m) return 0;
  netsql::kernel::NeighborMessage n;
  bool parsed = n.parse(m.get());
  FUZZ_CHECK(parsed == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(ndmsg))));
  if (parsed && n.has_address()) FUZZ_CHECK(!n.address().empty());
  if (parsed) n.mac();
  return 0;
}
