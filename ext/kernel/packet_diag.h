// sock_diag for packet sockets (PACKET_DIAG, ss -0): who captures link-layer
// frames, on which interface, promiscuous or not, with which BPF filter.
// Part of the kernel layer: no SQLite here.
#pragma once

#include <linux/packet_diag.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/netlink.h"
#include "kernel/sock_meminfo.h"

namespace netsql::kernel {

// A dump of every packet socket of the namespace with its info, multicast
// and promiscuous memberships, rings, fanout, uid, queues and filter.
Request packet_diag_request();

// One PACKET_ADD_MEMBERSHIP of a socket (packet_diag_mclist).
struct PacketMembership {
  int ifindex = 0;
  uint16_t type = 0;   // PACKET_MR_MULTICAST, _PROMISC, _ALLMULTI, _UNICAST
  std::string address;  // "01:00:5e:00:00:01" for multicast/unicast; "" otherwise
};

// What PACKET_DIAG_FILTER says about the socket's filter. The kernel sends
// the classic BPF program itself only to a caller with CAP_NET_ADMIN (an
// empty attribute otherwise); a program attached with SO_ATTACH_BPF (eBPF)
// has no classic form and reads as no filter.
enum class PacketFilter : uint8_t { None, Withheld, Classic };

struct PacketSock {
  uint8_t type = 0;       // SOCK_RAW or SOCK_DGRAM
  uint16_t protocol = 0;  // ethertype, host order (ETH_P_ALL = 3)
  uint64_t inode = 0;
  std::optional<int> ifindex;  // bound interface; 0: every interface
  std::vector<PacketMembership> memberships;
  std::optional<uint32_t> fanout;  // PACKET_DIAG_FANOUT: id | type << 16
  bool rx_ring = false, tx_ring = false;
  std::optional<uint32_t> uid;
  std::optional<SockQueues> queues;
  PacketFilter filter = PacketFilter::None;
  uint32_t filter_instructions = 0;  // Classic only
  bool malformed = false;            // an attribute was cut or damaged: the rest was dropped

  uint16_t fanout_id() const { return static_cast<uint16_t>(*fanout & 0xffff); }
  uint8_t fanout_type() const { return static_cast<uint8_t>((*fanout >> 16) & 0xff); }
};

// Parses one PACKET_DIAG reply; nullopt if of another type or shorter than
// packet_diag_msg. A membership list cut short keeps its whole entries.
std::optional<PacketSock> parse_packet_sock(const nlmsghdr* m);

// The name iproute2 (ss, ip) gives an ethertype: "all" (ETH_P_ALL), "ip",
// "arp", "ipv6", "802.1Q", ...; "" for one it does not name.
std::string_view ethertype_name(uint16_t protocol);
// PACKET_FANOUT_* as a word: hash, lb, cpu, rollover, rnd, qm, cbpf, ebpf;
// "" for an unknown one.
std::string_view fanout_type_name(uint8_t type);
// PACKET_MR_* as a word: multicast, promisc, allmulti, unicast; "" otherwise.
std::string_view membership_type_name(uint16_t type);

}  // namespace netsql::kernel
