// sock_diag replies for netlink sockets: netlink_diag_msg, its group bitmap,
// flags and meminfo (kernel::parse_netlink_sock, behind netlink_sockets).
#include <linux/netlink_diag.h>
#include <linux/sock_diag.h>

#include "fuzz.h"
#include "kernel/netlink_diag.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, SOCK_DIAG_BY_FAMILY);
  if (!m) return 0;
  auto s = netsql::kernel::parse_netlink_sock(m.get());
  FUZZ_CHECK(s.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(netlink_diag_msg))));
  if (!s) return 0;
  // Groups ascend, each a bit of the bitmap inside the message.
  for (size_t i = 0; i < s->groups.size(); ++i) {
    FUZZ_CHECK(s->groups[i] >= 1 && s->groups[i] <= m.get()->nlmsg_len * 8);
    if (i) FUZZ_CHECK(s->groups[i - 1] < s->groups[i]);
  }
  (void)netsql::kernel::netlink_protocol_name(s->protocol);
  if (s->flags) FUZZ_CHECK(!netsql::kernel::netlink_flags_text(*s->flags).empty() || *s->flags == 0);
  return 0;
}
