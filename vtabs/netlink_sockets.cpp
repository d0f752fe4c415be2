// netlink_sockets: every netlink socket of the namespace (ss -A netlink),
// kernel ones included, from sock_diag (NETLINK_DIAG), streamed, each once
// (ss lists multicast listeners twice). protocol = or IN is pushed down:
// one dump per protocol asked for.
#include <linux/sock_diag.h>

#include <charconv>
#include <unordered_set>

#include "kernel/netlink_diag.h"
#include "vtabs/owners.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { PROTOCOL, PROTOCOL_NUMBER, PORTID, STATE, DST_PORTID, DST_GROUP, GROUPS, FLAGS, INODE, RECV_Q, SEND_Q, kOwnerFirst };

constexpr std::array<Column, kOwnerFirst> kNetlinkColumns{{
    {"protocol", Type::Text, "the kernel subsystem it talks to, after the NETLINK_* constant: route, sock_diag, "
                             "generic, netfilter, kobject_uevent, audit, xfrm, ...; the number as text for one "
                             "without a constant", kPushIn, 0.1, "one dump per protocol"},
    key({"protocol_number", Type::Integer, "NETLINK_* number of the protocol (0 route, 4 sock_diag, 16 generic, ...)"}),
    key({"portid", Type::Integer, "port id the socket is bound to (often the pid of its first owner); 0: the kernel's "
                                  "own socket of the protocol"}),
    {"state", Type::Text, "ESTABLISHED when connected to a peer (ss shows the peer but says UNCONN), else UNCONN"},
    {"dst_portid", Type::Integer, "port id of the connected peer; 0 when unconnected or the kernel"},
    {"dst_group", Type::Integer, "multicast group it sends to by default; 0: none"},
    {"groups", Type::Text, "multicast groups it listens to, ascending, comma separated (route: 1 RTNLGRP_LINK, "
                           "5 RTNLGRP_IPV4_IFADDR, ...); NULL when none"},
    {"flags", Type::Text, "socket options set, comma separated: cb_running (a dump is in progress), pktinfo, "
                          "broadcast_error, no_enobufs, listen_all_nsid, cap_ack; '' when none"},
    key({"inode", Type::Integer, "socket inode"}),
    {"recv_q", Type::Integer, "bytes of receive memory in use (queued messages), as ss prints Recv-Q"},
    {"send_q", Type::Integer, "bytes of send memory in use, as ss prints Send-Q"},
}};
constexpr auto kColumns = concat(kNetlinkColumns, kOwnerColumns);

// The protocol a `protocol` value names: a name or a decimal number.
std::optional<uint8_t> protocol_of(std::string_view text) {
  if (auto n = kernel::netlink_protocol_number(text)) return n;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty() && v < 256) return static_cast<uint8_t>(v);
  return std::nullopt;
}

class NetlinkCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    dumps_.reset();
    listeners_.clear();
    std::vector<kernel::Request> reqs;
    if (const auto* vs = q.values(PROTOCOL)) {
      bool asked[256] = {};
      for (const auto& v : *vs) {
        const std::string* t = v.as_text();
        if (!t) continue;  // a number or NULL equals no TEXT value
        auto p = protocol_of(*t);
        if (!p) throw Error("unknown protocol '" + *t + "' (expected a name such as route, generic, sock_diag, or a number)");
        // NDIAG_PROTO_ALL (255) would ask for every protocol; the kernel has
        // 32 at most (MAX_LINKS) and answers ENOENT past them.
        if (*p < 32 && !asked[*p]) {
          asked[*p] = true;
          reqs.push_back(kernel::netlink_diag_request(*p));
        }
      }
      if (reqs.empty()) return;
    } else {
      reqs.push_back(kernel::netlink_diag_request(NDIAG_PROTO_ALL));
    }
    owners_.prepare(q, kOwnerFirst);
    dumps_.emplace(q.netns->netlink(NETLINK_SOCK_DIAG), std::move(reqs));
    next();
  }
  bool eof() const override { return !dumps_; }
  void next() override {
    while (const nlmsghdr* m = dumps_->next())
      if (auto s = kernel::parse_netlink_sock(m)) {
        if (!s->groups.empty() && !listeners_.insert(s->inode).second) continue;  // the kernel's second listing
        sock_ = std::move(*s);
        return;
      }
    dumps_.reset();
  }
  void column(int col, Cell& out) override {
    const auto& s = sock_;
    switch (col) {
      case PROTOCOL: {
        std::string_view name = kernel::netlink_protocol_name(s.protocol);
        return name.empty() ? out.text(std::to_string(s.protocol)) : out.text(name);
      }
      case PROTOCOL_NUMBER: return out.integer(s.protocol);
      case PORTID: return out.integer(s.portid);
      case STATE: return out.text(s.state == 1 ? "ESTABLISHED" : "UNCONN");
      case DST_PORTID: return out.integer(s.dst_portid);
      case DST_GROUP: return out.integer(s.dst_group);
      case GROUPS: {
        std::string text;
        for (uint32_t g : s.groups) text += (text.empty() ? "" : ",") + std::to_string(g);
        return out.text_or_null(text);
      }
      case FLAGS: return s.flags ? out.text(kernel::netlink_flags_text(*s.flags)) : out.null();
      case INODE: return out.integer(static_cast<int64_t>(s.inode));
      case RECV_Q: return s.queues ? out.integer(s.queues->recv) : out.null();
      case SEND_Q: return s.queues ? out.integer(s.queues->send) : out.null();
      default: return owners_.column(col - kOwnerFirst, s.inode, out);
    }
  }

 private:
  std::optional<kernel::DumpSequence> dumps_;
  kernel::NetlinkSock sock_;
  // The kernel lists a socket with multicast groups twice: once from its
  // protocol's port table, once from the group list (ss shows both). The
  // inodes of those seen so far drop the second: memory grows with the
  // multicast listeners, not with the sockets.
  std::unordered_set<uint64_t> listeners_;
  Owners owners_;
};

}  // namespace

const TableDef kNetlinkSockets{
    "netlink_sockets",
    "Netlink sockets of the network namespace, the kernel's own included (ss -A netlink), from netlink sock_diag "
    "(NETLINK_DIAG): which processes talk to or listen to which kernel subsystem. Each socket is one row; ss lists "
    "one with multicast groups twice, as the kernel's dump does.",
    kColumns,
    50,
    [] { return std::unique_ptr<Cursor>(new NetlinkCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
