// sock_diag replies for unix sockets: unix_diag_msg and its attributes
// (kernel::parse_unix_sock, behind unix_sockets).
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "fuzz.h"
#include "kernel/unix_diag.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, SOCK_DIAG_BY_FAMILY);
  if (!m) return 0;
  auto s = netsql::kernel::parse_unix_sock(m.get());
  FUZZ_CHECK(s.has_value() == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(unix_diag_msg))));
  if (s && s->path) FUZZ_CHECK(!s->path->empty() && s->path->size() < m.get()->nlmsg_len);
  return 0;
}
