// rtnetlink RTM_NEWLINK messages: ifinfomsg and its attributes
// (kernel::LinkMessage, behind interfaces).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWLINK);
  if (!m) return 0;
  netsql::kernel::LinkMessage l;
  bool parsed = l.parse(m.get());
  FUZZ_CHECK(parsed == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(ifinfomsg))));
  if (parsed) l.name(), l.kind(), l.mac(), l.broadcast_mac(), l.qdisc(), l.mtu(), l.stats(), l.master();
  return 0;
}
