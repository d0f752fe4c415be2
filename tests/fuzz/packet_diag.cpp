// sock_diag replies for packet sockets: packet_diag_msg, its membership
// list, filter and meminfo attributes (kernel::parse_packet_sock, behind
// packet_sockets).
#include <linux/filter.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>

#include "fuzz.h"
#include "kernel/packet_diag.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, SOCK_DIAG_BY_FAMILY);
  if (!m) return 0;
  auto s = netsql::kernel::parse_packet_sock(m.get());
  FUZZ_CHECK(s.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(packet_diag_msg))));
  if (!s) return 0;
  // Every membership and filter instruction is a whole record inside the message.
  FUZZ_CHECK(s->memberships.size() * sizeof(packet_diag_mclist) < m.get()->nlmsg_len);
  FUZZ_CHECK(s->filter_instructions * sizeof(sock_filter) < m.get()->nlmsg_len);
  for (const auto& pm : s->memberships) FUZZ_CHECK(pm.address.size() <= 32 * 3);
  if (s->filter != netsql::kernel::PacketFilter::Classic) FUZZ_CHECK(s->filter_instructions == 0);
  (void)netsql::kernel::ethertype_name(s->protocol);
  if (s->fanout) (void)netsql::kernel::fanout_type_name(s->fanout_type());
  return 0;
}
