#include "kernel/netlink_diag.h"

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

namespace netsql::kernel {

Request netlink_diag_request(uint8_t protocol) {
  Request r(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
  netlink_diag_req req{};
  req.sdiag_family = AF_NETLINK;
  req.sdiag_protocol = protocol;
  req.ndiag_show = NDIAG_SHOW_GROUPS | NDIAG_SHOW_FLAGS | NDIAG_SHOW_MEMINFO;
  r.append(req);
  return r;
}

std::optional<NetlinkSock> parse_netlink_sock(const nlmsghdr* m) {
  if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY || m->nlmsg_len < NLMSG_LENGTH(sizeof(netlink_diag_msg)))
    return std::nullopt;
  netlink_diag_msg msg;
  std::memcpy(&msg, NLMSG_DATA(m), sizeof msg);
  AttrTable<NETLINK_DIAG_MAX + 1> a(payload_after(m, sizeof msg));
  NetlinkSock s;
  s.protocol = msg.ndiag_protocol;
  s.state = msg.ndiag_state;
  s.portid = msg.ndiag_portid;
  s.dst_portid = msg.ndiag_dst_portid;
  s.dst_group = msg.ndiag_dst_group;
  s.inode = msg.ndiag_ino;
  s.malformed = a.malformed();
  // The kernel's bitmap of host-order unsigned longs: group n is bit
  // (n - 1) % BITS_PER_LONG of long (n - 1) / BITS_PER_LONG.
  Bytes g = a.raw(NETLINK_DIAG_GROUPS);
  constexpr size_t kWord = sizeof(unsigned long);
  for (size_t w = 0; g.data() && (w + 1) * kWord <= g.size(); ++w) {
    unsigned long bits;
    std::memcpy(&bits, g.data() + w * kWord, kWord);
    for (size_t b = 0; b < kWord * 8; ++b)
      if (bits >> b & 1) s.groups.push_back(static_cast<uint32_t>(w * kWord * 8 + b + 1));
  }
  if (g.data() && g.size() % kWord) s.malformed = true;
  s.flags = a.get<uint32_t>(NETLINK_DIAG_FLAGS);
  s.queues = sock_queues(a.raw(NETLINK_DIAG_MEMINFO));
  return s;
}

namespace {
constexpr std::array<std::string_view, 24> kProtocolNames{
    "route", "unused", "usersock", "firewall", "sock_diag", "nflog", "xfrm", "selinux",
    "iscsi", "audit", "fib_lookup", "connector", "netfilter", "ip6_fw", "dnrtmsg", "kobject_uevent",
    "generic", "", "scsitransport", "ecryptfs", "rdma", "crypto", "smc", ""};
}  // namespace

std::string_view netlink_protocol_name(unsigned protocol) {
  return protocol < kProtocolNames.size() ? kProtocolNames[protocol] : std::string_view();
}

std::optional<uint8_t> netlink_protocol_number(std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (size_t i = 0; i < kProtocolNames.size(); ++i)
    if (kProtocolNames[i] == name) return static_cast<uint8_t>(i);
  return std::nullopt;
}

std::string netlink_flags_text(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kFlags[] = {
      {NDIAG_FLAG_CB_RUNNING, "cb_running"},     {NDIAG_FLAG_PKTINFO, "pktinfo"},
      {NDIAG_FLAG_BROADCAST_ERROR, "broadcast_error"}, {NDIAG_FLAG_NO_ENOBUFS, "no_enobufs"},
      {NDIAG_FLAG_LISTEN_ALL_NSID, "listen_all_nsid"}, {NDIAG_FLAG_CAP_ACK, "cap_ack"}};
  std::string out;
  for (auto [bit, name] : kFlags)
    if (flags & bit) {
      if (!out.empty()) out += ',';
      out += name;
      flags &= ~bit;
    }
  if (flags) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", flags);
    if (!out.empty()) out += ',';
    out += hex;
  }
  return out;
}

}  // namespace netsql::kernel
