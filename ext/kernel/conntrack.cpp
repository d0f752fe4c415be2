#include "kernel/conntrack.h"

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <endian.h>

#include <cstdio>
#include <cstring>

#include "kernel/sock_diag.h"

namespace netsql::kernel {

namespace {

constexpr uint16_t kCtNew = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
constexpr uint16_t kCtGet = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;

// Network-order integers of ctnetlink.
template <class T>
std::optional<T> be(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  if constexpr (sizeof(T) == 2) return static_cast<T>(ntohs(*v));
  else if constexpr (sizeof(T) == 4) return static_cast<T>(ntohl(*v));
  else return static_cast<T>(be64toh(*v));
}

void parse_tuple(Bytes b, ConntrackTuple& t, bool& malformed) {
  AttrTable<CTA_TUPLE_MAX + 1> a(b);
  malformed |= a.malformed();
  AttrTable<CTA_IP_MAX + 1> ip(a.raw(CTA_TUPLE_IP));
  malformed |= ip.malformed();
  Bytes s4 = ip.raw(CTA_IP_V4_SRC), d4 = ip.raw(CTA_IP_V4_DST), s6 = ip.raw(CTA_IP_V6_SRC), d6 = ip.raw(CTA_IP_V6_DST);
  if (s4.size() >= 4 && d4.size() >= 4) {
    t.family = AF_INET;
    std::memcpy(t.src, s4.data(), 4);
    std::memcpy(t.dst, d4.data(), 4);
  } else if (s6.size() >= 16 && d6.size() >= 16) {
    t.family = AF_INET6;
    std::memcpy(t.src, s6.data(), 16);
    std::memcpy(t.dst, d6.data(), 16);
  }
  AttrTable<CTA_PROTO_MAX + 1> proto(a.raw(CTA_TUPLE_PROTO));
  malformed |= proto.malformed();
  t.protocol = proto.get<uint8_t>(CTA_PROTO_NUM).value_or(0);
  t.sport = be(proto.get<uint16_t>(CTA_PROTO_SRC_PORT));
  t.dport = be(proto.get<uint16_t>(CTA_PROTO_DST_PORT));
}

std::optional<ConntrackCounters> counters(Bytes b, bool& malformed) {
  if (!b.data()) return std::nullopt;
  AttrTable<CTA_COUNTERS_MAX + 1> a(b);
  malformed |= a.malformed();
  auto packets = be(a.get<uint64_t>(CTA_COUNTERS_PACKETS)), bytes = be(a.get<uint64_t>(CTA_COUNTERS_BYTES));
  if (!packets || !bytes) return std::nullopt;
  return ConntrackCounters{*packets, *bytes};
}

}  // namespace

Request conntrack_dump_request(const ConntrackQuery& q) {
  Request r(kCtGet, NLM_F_REQUEST | NLM_F_DUMP);
  nfgenmsg g{};
  g.nfgen_family = q.family;
  g.version = NFNETLINK_V0;
  r.append(g);
  if (q.mark) {
    uint32_t mark = htonl(*q.mark), mask = 0xffffffff;
    r.add_attr(CTA_MARK, &mark, sizeof mark);
    r.add_attr(CTA_MARK_MASK, &mask, sizeof mask);
  }
  if (q.zone) {
    uint16_t zone = htons(*q.zone);
    r.add_attr(CTA_ZONE, &zone, sizeof zone);
  }
  return r;
}

std::string ConntrackTuple::src_text() const { return family ? address_text(family, src) : std::string(); }
std::string ConntrackTuple::dst_text() const { return family ? address_text(family, dst) : std::string(); }

bool Conntrack::source_translated() const {
  return orig.family && reply.family == orig.family &&
         (std::memcmp(reply.dst, orig.src, sizeof orig.src) != 0 || reply.dport != orig.sport);
}

bool Conntrack::destination_translated() const {
  return orig.family && reply.family == orig.family &&
         (std::memcmp(reply.src, orig.dst, sizeof orig.dst) != 0 || reply.sport != orig.dport);
}

std::optional<Conntrack> parse_conntrack(const nlmsghdr* m) {
  if (m->nlmsg_type != kCtNew || m->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return std::nullopt;
  nfgenmsg g;
  std::memcpy(&g, NLMSG_DATA(m), sizeof g);
  AttrTable<CTA_MAX + 1> a(payload_after(m, sizeof g));
  Conntrack c;
  c.family = g.nfgen_family;
  c.malformed = a.malformed();
  parse_tuple(a.raw(CTA_TUPLE_ORIG), c.orig, c.malformed);
  parse_tuple(a.raw(CTA_TUPLE_REPLY), c.reply, c.malformed);
  c.status = be(a.get<uint32_t>(CTA_STATUS));
  c.timeout = be(a.get<uint32_t>(CTA_TIMEOUT));
  c.mark = be(a.get<uint32_t>(CTA_MARK));
  c.id = be(a.get<uint32_t>(CTA_ID));
  c.use = be(a.get<uint32_t>(CTA_USE));
  c.zone = be(a.get<uint16_t>(CTA_ZONE));
  if (a.has(CTA_PROTOINFO)) {
    AttrTable<CTA_PROTOINFO_MAX + 1> info(a.raw(CTA_PROTOINFO));
    AttrTable<CTA_PROTOINFO_TCP_MAX + 1> tcp(info.raw(CTA_PROTOINFO_TCP));
    c.malformed |= info.malformed() || tcp.malformed();
    c.tcp_state = tcp.get<uint8_t>(CTA_PROTOINFO_TCP_STATE);
  }
  c.counters_orig = counters(a.raw(CTA_COUNTERS_ORIG), c.malformed);
  c.counters_reply = counters(a.raw(CTA_COUNTERS_REPLY), c.malformed);
  return c;
}

std::string conntrack_status_text(uint32_t status) {
  static constexpr std::string_view kNames[] = {
      "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT", "DST_NAT", "SEQ_ADJUST", "SRC_NAT_DONE",
      "DST_NAT_DONE", "DYING", "FIXED_TIMEOUT", "TEMPLATE", "UNTRACKED", "HELPER", "OFFLOAD", "HW_OFFLOAD"};
  std::string out;
  for (size_t bit = 0; bit < std::size(kNames); ++bit)
    if (status & (1u << bit)) {
      if (!out.empty()) out += ',';
      out += kNames[bit];
    }
  uint32_t rest = status & ~((1u << std::size(kNames)) - 1);
  if (rest) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", rest);
    if (!out.empty()) out += ',';
    out += hex;
  }
  return out;
}

std::string_view tcp_conntrack_state_name(uint8_t state) {
  static constexpr std::string_view kNames[] = {"NONE",     "SYN_SENT",   "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
                                                "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",      "SYN_SENT2"};
  return state < std::size(kNames) ? kNames[state] : std::string_view();
}

std::string_view ip_protocol_name(uint8_t protocol) {
  switch (protocol) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    case IPPROTO_SCTP: return "sctp";
    case IPPROTO_DCCP: return "dccp";
    case IPPROTO_GRE: return "gre";
    case IPPROTO_UDPLITE: return "udplite";
    default: return "";
  }
}

}  // namespace netsql::kernel
