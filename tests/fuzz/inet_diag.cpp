// sock_diag replies for TCP and UDP sockets: inet_diag_msg and its
// attributes (kernel::parse_inet_sock and what tcp_sockets and udp_sockets
// read from it: addresses, congestion, tcp_info, skmeminfo).
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <array>

#include "fuzz.h"
#include "kernel/sock_diag.h"

using namespace netsql::kernel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netsql::fuzz::Message m(data, size, SOCK_DIAG_BY_FAMILY);
  if (!m) return 0;
  InetSock s;
  bool ok = parse_inet_sock(m.get(), s);
  FUZZ_CHECK(ok == (m.get()->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))));
  if (!ok) return 0;
  s.local_address();
  s.remote_address();
  const auto& a = s.attributes();
  for (size_t t = 0; t <= INET_DIAG_MAX; ++t) FUZZ_CHECK(m.holds(a.raw(t)));
  if (auto cong = a.str(INET_DIAG_CONG)) FUZZ_CHECK(cong->size() <= a.raw(INET_DIAG_CONG).size());
  FUZZ_CHECK(copy_partial<tcp_info>(a.raw(INET_DIAG_INFO)).size <= sizeof(tcp_info));
  copy_partial<std::array<uint32_t, SK_MEMINFO_VARS>>(a.raw(INET_DIAG_SKMEMINFO));
  return 0;
}
