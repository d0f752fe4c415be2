#include "kernel/unix_diag.h"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cstring>

namespace netsql::kernel {

Request unix_diag_request(uint32_t state_mask) {
  Request r(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
  unix_diag_req req{};
  req.sdiag_family = AF_UNIX;
  req.udiag_states = state_mask;
  req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
  r.append(req);
  return r;
}

std::optional<UnixSock> parse_unix_sock(const nlmsghdr* m) {
  if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY || m->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) return std::nullopt;
  unix_diag_msg msg;
  std::memcpy(&msg, NLMSG_DATA(m), sizeof msg);
  AttrTable<UNIX_DIAG_MAX + 1> a(payload_after(m, sizeof msg));
  UnixSock s;
  s.type = msg.udiag_type;
  s.state = msg.udiag_state;
  s.inode = msg.udiag_ino;
  if (auto p = a.get<uint32_t>(UNIX_DIAG_PEER)) s.peer = *p;
  Bytes name = a.raw(UNIX_DIAG_NAME);
  if (name.data() && !name.empty()) {
    const char* p = reinterpret_cast<const char*>(name.data());
    if (p[0] == '\0') s.path = "@" + std::string(p + 1, name.size() - 1);  // abstract: may hold NULs
    else s.path = std::string(p, strnlen(p, name.size()));
  }
  if (auto q = a.get<unix_diag_rqlen>(UNIX_DIAG_RQLEN)) {
    s.rqueue = q->udiag_rqueue;
    s.wqueue = q->udiag_wqueue;
  }
  s.uid = a.get<uint32_t>(UNIX_DIAG_UID);
  return s;
}

}  // namespace netsql::kernel
