// conntrack: the connection tracking table of the namespace (conntrack -L),
// from ctnetlink, streamed. family (= or IN: one dump each), mark and zone
// (=) are filtered by the kernel; SQLite re-checks them. Reading it needs
// CAP_NET_ADMIN in the namespace: without, the query fails with an error
// saying so (the kernel refuses the dump).
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <set>

#include "kernel/conntrack.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  FAMILY, PROTOCOL, PROTOCOL_NUMBER, STATE, SRC, DST, SPORT, DPORT, REPLY_SRC, REPLY_DST, REPLY_SPORT, REPLY_DPORT,
  SNAT_ADDRESS, SNAT_PORT, DNAT_ADDRESS, DNAT_PORT, STATUS, TIMEOUT, MARK, ZONE, PACKETS, BYTES, REPLY_PACKETS,
  REPLY_BYTES, ID, USE, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    {"family", Type::Text, "ipv4 or ipv6", kPushIn, 0.5, "one dump per family (nfgen_family)"},
    {"protocol", Type::Text, "tcp, udp, icmp, icmpv6, sctp, dccp, gre, udplite; the number as text for others"},
    {"protocol_number", Type::Integer, "IP protocol number (6 tcp, 17 udp, ...)"},
    {"state", Type::Text, "TCP conntrack state: SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, "
                          "TIME_WAIT, CLOSE, SYN_SENT2; NULL for other protocols"},
    {"src", Type::Text, "original direction: source address, as the first packet had it"},
    {"dst", Type::Text, "original direction: destination address"},
    {"sport", Type::Integer, "original direction: source port; NULL for protocols without ports (icmp, gre)"},
    {"dport", Type::Integer, "original direction: destination port; NULL without ports"},
    {"reply_src", Type::Text, "reply direction: source address the answers come from"},
    {"reply_dst", Type::Text, "reply direction: destination address"},
    {"reply_sport", Type::Integer, "reply direction: source port; NULL without ports"},
    {"reply_dport", Type::Integer, "reply direction: destination port; NULL without ports"},
    {"snat_address", Type::Text, "the address the source was translated to (SNAT, masquerade): reply_dst when "
                                 "(reply_dst, reply_dport) differs from (src, sport), derived from the tuples; NULL "
                                 "when the source is not translated"},
    {"snat_port", Type::Integer, "the port the source was translated to (reply_dport); NULL as snat_address or "
                                 "without ports"},
    {"dnat_address", Type::Text, "the address the destination was translated to (DNAT, redirect): reply_src when "
                                 "(reply_src, reply_sport) differs from (dst, dport); NULL when not translated"},
    {"dnat_port", Type::Integer, "the port the destination was translated to (reply_sport); NULL as dnat_address or "
                                 "without ports"},
    {"status", Type::Text, "status bits, comma separated: SEEN_REPLY, ASSURED, CONFIRMED, SRC_NAT, DST_NAT, "
                           "SRC_NAT_DONE, DST_NAT_DONE, DYING, OFFLOAD, ... (conntrack -L shows ASSURED and the "
                           "absence of SEEN_REPLY, UNREPLIED)"},
    {"timeout", Type::Integer, "seconds until the entry expires unless more packets come"},
    {"mark", Type::Integer, "connection mark (ct mark, CONNMARK)", kPushEq, 0.1, "a ctnetlink dump filter"},
    {"zone", Type::Integer, "conntrack zone; 0: the default zone", kPushEq, 0.5,
     "a ctnetlink dump filter (for a zone other than 0)"},
    {"packets", Type::Integer, "packets in the original direction; NULL unless accounting was on "
                               "(net.netfilter.nf_conntrack_acct = 1) when the entry was created"},
    {"bytes", Type::Integer, "bytes in the original direction; NULL without accounting"},
    {"reply_packets", Type::Integer, "packets in the reply direction; NULL without accounting"},
    {"reply_bytes", Type::Integer, "bytes in the reply direction; NULL without accounting"},
    key({"id", Type::Integer, "the entry's id (conntrack -o id)"}),
    {"use", Type::Integer, "reference count"},
}};

std::optional<uint32_t> family_bit(std::string_view name) {
  if (name == "ipv4") return 1u << 0;
  if (name == "ipv6") return 1u << 1;
  return std::nullopt;
}

// The single integer value of an = constraint within [0, max]; nullopt
// (no row can match) for anything else.
std::optional<uint32_t> in_range(const std::vector<Value>& vs, int64_t max) {
  if (vs.size() != 1) return std::nullopt;
  auto v = vs[0].as_integer();
  if (!v || *v < 0 || *v > max) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

class ConntrackCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    dumps_.reset();
    uint32_t families = 3;
    if (const auto* v = q.values(FAMILY))
      families = resolve_mask(*v, family_bit, [](std::string_view n) {
        return "invalid family '" + std::string(n) + "' (expected ipv4 or ipv6)";
      });
    kernel::ConntrackQuery base;
    if (const auto* v = q.values(MARK)) {
      base.mark = in_range(*v, 0xffffffff);
      if (!base.mark) return;
    }
    if (const auto* v = q.values(ZONE)) {
      auto zone = in_range(*v, 0xffff);
      if (!zone) return;
      if (*zone) base.zone = static_cast<uint16_t>(*zone);  // the kernel ignores a zone 0 filter
    }
    std::vector<kernel::Request> reqs;
    if (families == 3) {
      reqs.push_back(kernel::conntrack_dump_request(base));
    } else {
      for (auto [bit, family] : {std::pair{1u, AF_INET}, std::pair{2u, AF_INET6}})
        if (families & bit) {
          base.family = static_cast<uint8_t>(family);
          reqs.push_back(kernel::conntrack_dump_request(base));
        }
    }
    if (reqs.empty()) return;
    dumps_.emplace(q.netns->netlink(NETLINK_NETFILTER), std::move(reqs));
    next();
  }
  bool eof() const override { return !dumps_; }
  void next() override {
    try {
      while (const nlmsghdr* m = dumps_->next())
        if (auto c = kernel::parse_conntrack(m)) {
          ct_ = std::move(*c);
          return;
        }
    } catch (const kernel::Refusal& e) {
      if (e.error() == EPERM)
        throw Error("reading the connection tracking table needs CAP_NET_ADMIN in the network namespace (the kernel "
                    "refused the ctnetlink dump: Operation not permitted)");
      throw;
    }
    dumps_.reset();
  }
  void column(int col, Cell& out) override {
    const auto& c = ct_;
    auto port = [&](const std::optional<uint16_t>& p) { return out.integer(p); };
    switch (col) {
      case FAMILY: return out.text(c.family == AF_INET ? "ipv4" : c.family == AF_INET6 ? "ipv6" : "other");
      case PROTOCOL: {
        std::string_view name = kernel::ip_protocol_name(c.orig.protocol);
        return name.empty() ? out.text(std::to_string(c.orig.protocol)) : out.text(name);
      }
      case PROTOCOL_NUMBER: return out.integer(c.orig.protocol);
      case STATE: {
        if (!c.tcp_state) return out.null();
        return out.text_or_null(kernel::tcp_conntrack_state_name(*c.tcp_state));
      }
      case SRC: return out.text_or_null(c.orig.src_text());
      case DST: return out.text_or_null(c.orig.dst_text());
      case SPORT: return port(c.orig.sport);
      case DPORT: return port(c.orig.dport);
      case REPLY_SRC: return out.text_or_null(c.reply.src_text());
      case REPLY_DST: return out.text_or_null(c.reply.dst_text());
      case REPLY_SPORT: return port(c.reply.sport);
      case REPLY_DPORT: return port(c.reply.dport);
      case SNAT_ADDRESS: return c.source_translated() ? out.text(c.reply.dst_text()) : out.null();
      case SNAT_PORT: return c.source_translated() ? port(c.reply.dport) : out.null();
      case DNAT_ADDRESS: return c.destination_translated() ? out.text(c.reply.src_text()) : out.null();
      case DNAT_PORT: return c.destination_translated() ? port(c.reply.sport) : out.null();
      case STATUS: return c.status ? out.text(kernel::conntrack_status_text(*c.status)) : out.null();
      case TIMEOUT: return out.integer(c.timeout);
      case MARK: return out.integer(c.mark);
      case ZONE: return out.integer(c.zone ? c.zone : std::optional<uint16_t>(0));
      case PACKETS: return c.counters_orig ? out.integer(static_cast<int64_t>(c.counters_orig->packets)) : out.null();
      case BYTES: return c.counters_orig ? out.integer(static_cast<int64_t>(c.counters_orig->bytes)) : out.null();
      case REPLY_PACKETS:
        return c.counters_reply ? out.integer(static_cast<int64_t>(c.counters_reply->packets)) : out.null();
      case REPLY_BYTES: return c.counters_reply ? out.integer(static_cast<int64_t>(c.counters_reply->bytes)) : out.null();
      case ID: return out.integer(c.id);
      case USE: return out.integer(c.use);
      default: return out.null();
    }
  }

 private:
  std::optional<kernel::DumpSequence> dumps_;
  kernel::Conntrack ct_;
};

}  // namespace

const TableDef kConntrack{
    "conntrack",
    "Connection tracking entries of the network namespace (conntrack -L, netstat -M), from ctnetlink: every flow the "
    "firewall tracks, both directions, and where NAT rewrote it. Needs CAP_NET_ADMIN in the namespace (an error "
    "says so otherwise). Empty while nothing in the namespace uses conntrack (no ct rule, no NAT).",
    kColumns,
    100,
    [] { return std::unique_ptr<Cursor>(new ConntrackCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
