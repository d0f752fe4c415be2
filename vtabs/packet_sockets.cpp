// packet_sockets: every AF_PACKET socket of the namespace (ss -0), from
// sock_diag (PACKET_DIAG), streamed: who captures frames, on which
// interface, in promiscuous mode, with which filter and fanout group.
// The kernel offers no filter on this dump: SQLite checks every constraint.
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>

#include "kernel/packet_diag.h"
#include "kernel/rtnl.h"
#include "vtabs/owners.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  INODE, TYPE, PROTOCOL, PROTOCOL_NAME, IFINDEX, INTERFACE, PROMISCUOUS, MEMBERSHIPS, FANOUT_ID, FANOUT_TYPE, RX_RING,
  TX_RING, BPF_FILTER, BPF_INSTRUCTIONS, UID, RECV_Q, SEND_Q, kOwnerFirst
};

constexpr std::array<Column, kOwnerFirst> kPacketColumns{{
    key({"inode", Type::Integer, "socket inode"}),
    {"type", Type::Text, "raw (SOCK_RAW: frames with their link-layer header) or dgram (SOCK_DGRAM: without)"},
    {"protocol", Type::Integer, "ethertype the socket receives, host order (3: all, 2048: IPv4, 2054: ARP, 34525: IPv6); "
                                "0: none (receives nothing until bound with one)"},
    {"protocol_name", Type::Text, "the ethertype's name as iproute2 prints it: all, ip, arp, ipv6, 802.1Q, lldp, ...; "
                                  "NULL for one it does not name"},
    {"ifindex", Type::Integer, "index of the interface the socket is bound to; 0: every interface"},
    {"interface", Type::Text, "name of that interface; NULL when bound to every interface"},
    {"promiscuous", Type::Integer, "1 when the socket holds the interface in promiscuous mode (PACKET_ADD_MEMBERSHIP "
                                   "PACKET_MR_PROMISC), else 0"},
    {"memberships", Type::Text, "its PACKET_ADD_MEMBERSHIP entries, comma separated: promisc@eth0, allmulti@eth0, "
                                "multicast@eth0=01:00:5e:00:00:fb, unicast@eth0=<address>; NULL when none"},
    {"fanout_id", Type::Integer, "PACKET_FANOUT group id shared with the other sockets of the group; NULL when not "
                                 "in a fanout group"},
    {"fanout_type", Type::Text, "how the group spreads frames: hash, lb, cpu, rollover, rnd, qm, cbpf, ebpf; NULL "
                                "when not in a fanout group"},
    {"rx_ring", Type::Integer, "1 when a PACKET_RX_RING (memory-mapped receive ring) is set up, else 0"},
    {"tx_ring", Type::Integer, "1 when a PACKET_TX_RING is set up, else 0"},
    {"bpf_filter", Type::Integer, "1 when a classic BPF filter is attached (SO_ATTACH_FILTER, as tcpdump does), "
                                  "0 when none is (an eBPF program from SO_ATTACH_BPF also reads 0); NULL when the "
                                  "kernel withholds it: the caller lacks CAP_NET_ADMIN"},
    {"bpf_instructions", Type::Integer, "instructions of that classic filter; NULL when none or withheld"},
    {"uid", Type::Integer, "owning user id"},
    {"recv_q", Type::Integer, "bytes of receive memory in use (queued frames), as ss prints Recv-Q"},
    {"send_q", Type::Integer, "bytes of send memory in use, as ss prints Send-Q"},
}};
constexpr auto kColumns = concat(kPacketColumns, kOwnerColumns);

std::string memberships_text(const std::vector<kernel::PacketMembership>& ms, kernel::LinkNameCache& links) {
  std::string out;
  for (const auto& m : ms) {
    if (!out.empty()) out += ',';
    std::string_view type = kernel::membership_type_name(m.type);
    out += type.empty() ? "type" + std::to_string(m.type) : std::string(type);
    out += '@';
    out += links.name(m.ifindex);
    if (!m.address.empty()) out += '=' + m.address;
  }
  return out;
}

class PacketCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    dumps_.reset();
    netns_ = q.netns;
    links_.reset();
    owners_.prepare(q, kOwnerFirst);
    std::vector<kernel::Request> reqs;
    reqs.push_back(kernel::packet_diag_request());
    dumps_.emplace(q.netns->netlink(NETLINK_SOCK_DIAG), std::move(reqs));
    next();
  }
  bool eof() const override { return !dumps_; }
  void next() override {
    while (const nlmsghdr* m = dumps_->next())
      if (auto s = kernel::parse_packet_sock(m)) {
        sock_ = std::move(*s);
        return;
      }
    dumps_.reset();
  }
  void column(int col, Cell& out) override {
    const auto& s = sock_;
    switch (col) {
      case INODE: return out.integer(static_cast<int64_t>(s.inode));
      case TYPE: return out.text(s.type == SOCK_RAW ? "raw" : s.type == SOCK_DGRAM ? "dgram" : "other");
      case PROTOCOL: return out.integer(s.protocol);
      case PROTOCOL_NAME: return out.text_or_null(kernel::ethertype_name(s.protocol));
      case IFINDEX: return out.integer(s.ifindex);
      case INTERFACE: return s.ifindex && *s.ifindex ? out.text(links().name(*s.ifindex)) : out.null();
      case PROMISCUOUS:
        return out.integer(std::any_of(s.memberships.begin(), s.memberships.end(),
                                       [](const auto& m) { return m.type == PACKET_MR_PROMISC; }));
      case MEMBERSHIPS: return out.text_or_null(memberships_text(s.memberships, links()));
      case FANOUT_ID: return s.fanout ? out.integer(s.fanout_id()) : out.null();
      case FANOUT_TYPE: {
        if (!s.fanout) return out.null();
        std::string_view name = kernel::fanout_type_name(s.fanout_type());
        return name.empty() ? out.text(std::to_string(s.fanout_type())) : out.text(name);
      }
      case RX_RING: return out.integer(s.rx_ring);
      case TX_RING: return out.integer(s.tx_ring);
      case BPF_FILTER:
        return s.filter == kernel::PacketFilter::Withheld ? out.null()
                                                           : out.integer(s.filter == kernel::PacketFilter::Classic);
      case BPF_INSTRUCTIONS:
        return s.filter == kernel::PacketFilter::Classic ? out.integer(s.filter_instructions) : out.null();
      case UID: return out.integer(s.uid);
      case RECV_Q: return s.queues ? out.integer(s.queues->recv) : out.null();
      case SEND_Q: return s.queues ? out.integer(s.queues->send) : out.null();
      default: return owners_.column(col - kOwnerFirst, s.inode, out);
    }
  }

 private:
  // Interface names for this statement, the rtnetlink socket opened on first use.
  kernel::LinkNameCache& links() {
    if (!links_) links_.emplace(*netns_);
    return *links_;
  }

  std::optional<kernel::DumpSequence> dumps_;
  const kernel::Netns* netns_ = nullptr;
  std::optional<kernel::LinkNameCache> links_;
  kernel::PacketSock sock_;
  Owners owners_;
};

}  // namespace

const TableDef kPacketSockets{
    "packet_sockets",
    "Packet (AF_PACKET) sockets of the network namespace (ss -0), from netlink sock_diag (PACKET_DIAG): which "
    "processes capture frames, on which interface, promiscuous or not, with which filter.",
    kColumns,
    10,
    [] { return std::unique_ptr<Cursor>(new PacketCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
