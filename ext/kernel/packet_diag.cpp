#include "kernel/packet_diag.h"

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "kernel/rtnl_names.h"

namespace netsql::kernel {

Request packet_diag_request() {
  Request r(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
  packet_diag_req req{};
  req.sdiag_family = AF_PACKET;  // sdiag_protocol must be 0: the kernel has no per-protocol dump
  req.pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT |
                   PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER;
  r.append(req);
  return r;
}

std::optional<PacketSock> parse_packet_sock(const nlmsghdr* m) {
  if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY || m->nlmsg_len < NLMSG_LENGTH(sizeof(packet_diag_msg))) return std::nullopt;
  packet_diag_msg msg;
  std::memcpy(&msg, NLMSG_DATA(m), sizeof msg);
  AttrTable<PACKET_DIAG_MAX + 1> a(payload_after(m, sizeof msg));
  PacketSock s;
  s.type = msg.pdiag_type;
  s.protocol = msg.pdiag_num;  // the kernel converts it to host order
  s.inode = msg.pdiag_ino;
  s.malformed = a.malformed();
  if (auto info = a.get<packet_diag_info>(PACKET_DIAG_INFO)) s.ifindex = static_cast<int>(info->pdi_index);
  // The list is packet_diag_mclist records back to back, no headers.
  Bytes list = a.raw(PACKET_DIAG_MCLIST);
  for (size_t at = 0; list.data() && list.size() - at >= sizeof(packet_diag_mclist); at += sizeof(packet_diag_mclist)) {
    packet_diag_mclist e;
    std::memcpy(&e, list.data() + at, sizeof e);
    PacketMembership pm;
    pm.ifindex = static_cast<int>(e.pdmc_index);
    pm.type = e.pdmc_type;
    if ((e.pdmc_type == PACKET_MR_MULTICAST || e.pdmc_type == PACKET_MR_UNICAST) && e.pdmc_alen > 0)
      pm.address = mac_text(e.pdmc_addr, std::min<size_t>(e.pdmc_alen, sizeof e.pdmc_addr));
    s.memberships.push_back(std::move(pm));
  }
  if (list.data() && list.size() % sizeof(packet_diag_mclist)) s.malformed = true;
  s.fanout = a.get<uint32_t>(PACKET_DIAG_FANOUT);
  s.rx_ring = a.has(PACKET_DIAG_RX_RING);
  s.tx_ring = a.has(PACKET_DIAG_TX_RING);
  s.uid = a.get<uint32_t>(PACKET_DIAG_UID);
  s.queues = sock_queues(a.raw(PACKET_DIAG_MEMINFO));
  if (a.has(PACKET_DIAG_FILTER)) {
    Bytes f = a.raw(PACKET_DIAG_FILTER);
    if (f.empty()) {
      s.filter = PacketFilter::Withheld;
    } else {
      s.filter = PacketFilter::Classic;
      s.filter_instructions = static_cast<uint32_t>(f.size() / sizeof(sock_filter));
      if (f.size() % sizeof(sock_filter)) s.malformed = true;
    }
  }
  return s;
}

std::string_view ethertype_name(uint16_t protocol) {
  switch (protocol) {
    case ETH_P_ALL: return "all";
    case ETH_P_LOOP: return "loop";
    case ETH_P_IP: return "ip";
    case ETH_P_X25: return "x25";
    case ETH_P_ARP: return "arp";
    case ETH_P_RARP: return "rarp";
    case ETH_P_IPV6: return "ipv6";
    case ETH_P_8021Q: return "802.1Q";
    case ETH_P_8021AD: return "802.1ad";
    case ETH_P_MPLS_UC: return "mpls_uc";
    case ETH_P_MPLS_MC: return "mpls_mc";
    case ETH_P_PPP_DISC: return "ppp_disc";
    case ETH_P_PPP_SES: return "ppp_ses";
    case ETH_P_PAE: return "pae";
    case ETH_P_LLDP: return "lldp";
    case ETH_P_802_3: return "802_3";
    case ETH_P_802_2: return "802_2";
    case ETH_P_TEB: return "teb";
    case ETH_P_CAN: return "can";
    case ETH_P_TIPC: return "tipc";
    case ETH_P_AOE: return "aoe";
    case ETH_P_IPX: return "ipx";
    case ETH_P_ATALK: return "atalk";
    default: return "";
  }
}

std::string_view fanout_type_name(uint8_t type) {
  switch (type) {
    case PACKET_FANOUT_HASH: return "hash";
    case PACKET_FANOUT_LB: return "lb";
    case PACKET_FANOUT_CPU: return "cpu";
    case PACKET_FANOUT_ROLLOVER: return "rollover";
    case PACKET_FANOUT_RND: return "rnd";
    case PACKET_FANOUT_QM: return "qm";
    case PACKET_FANOUT_CBPF: return "cbpf";
    case PACKET_FANOUT_EBPF: return "ebpf";
    default: return "";
  }
}

std::string_view membership_type_name(uint16_t type) {
  switch (type) {
    case PACKET_MR_MULTICAST: return "multicast";
    case PACKET_MR_PROMISC: return "promisc";
    case PACKET_MR_ALLMULTI: return "allmulti";
    case PACKET_MR_UNICAST: return "unicast";
    default: return "";
  }
}

}  // namespace netsql::kernel
