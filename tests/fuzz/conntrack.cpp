// ctnetlink dump replies: nfgenmsg, nested tuples, protoinfo, counters
// (kernel::parse_conntrack, behind conntrack).
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "fuzz.h"
#include "kernel/conntrack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW);
  if (!m) return 0;
  auto c = netsql::kernel::parse_conntrack(m.get());
  FUZZ_CHECK(c.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(nfgenmsg))));
  if (!c) return 0;
  // A translation needs both tuples; texts exist exactly for tuples with addresses.
  if (c->source_translated() || c->destination_translated()) FUZZ_CHECK(c->orig.family && c->reply.family);
  FUZZ_CHECK(c->orig.src_text().empty() == !c->orig.family);
  FUZZ_CHECK(c->reply.dst_text().empty() == !c->reply.family);
  if (c->status) (void)netsql::kernel::conntrack_status_text(*c->status);
  if (c->tcp_state) (void)netsql::kernel::tcp_conntrack_state_name(*c->tcp_state);
  return 0;
}
