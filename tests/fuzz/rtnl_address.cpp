// rtnetlink RTM_NEWADDR messages: ifaddrmsg and its attributes
// (kernel::AddressMessage, behind interface_addresses).
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "kernel/rtnl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, RTM_NEWADDR);
  if (!m) return 0;
  netsql::kernel::AddressMessage a;
  bool parsed = a.parse(m.get());
  FUZZ_CHECK(parsed == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(ifaddrmsg))));
  if (parsed) a.address(), a.peer(), a.broadcast(), a.label(), a.flags(), a.valid_s(), a.preferred_s();
  return 0;
}
