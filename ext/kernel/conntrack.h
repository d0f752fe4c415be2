// Connection tracking entries over ctnetlink (NFNL_SUBSYS_CTNETLINK,
// IPCTNL_MSG_CT_GET dump; conntrack -L): requests with the kernel-side
// filters ctnetlink offers, and reply parsing. The kernel answers a dump
// only to a caller with CAP_NET_ADMIN (EPERM otherwise). Part of the kernel
// layer: no SQLite here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernel/netlink.h"

namespace netsql::kernel {

// What the kernel filters a dump by (ctnetlink_filter_match).
struct ConntrackQuery {
  uint8_t family = 0;             // AF_INET, AF_INET6; 0: both (nfgen_family)
  std::optional<uint32_t> mark;   // CTA_MARK with CTA_MARK_MASK 0xffffffff
  std::optional<uint16_t> zone;   // CTA_ZONE; the kernel ignores zone 0 (every zone comes back)
};
Request conntrack_dump_request(const ConntrackQuery& q);

// One direction of a connection (CTA_TUPLE_ORIG or CTA_TUPLE_REPLY).
struct ConntrackTuple {
  uint8_t family = 0;  // AF_INET or AF_INET6; 0 when the tuple had no addresses
  uint8_t src[16] = {}, dst[16] = {};
  uint8_t protocol = 0;
  std::optional<uint16_t> sport, dport;  // host order; TCP, UDP, SCTP, DCCP, UDP-Lite
  std::string src_text() const;
  std::string dst_text() const;
};

struct ConntrackCounters {
  uint64_t packets = 0, bytes = 0;
};

struct Conntrack {
  uint8_t family = 0;  // nfgen_family
  ConntrackTuple orig, reply;
  std::optional<uint32_t> status;  // IPS_* bits
  std::optional<uint32_t> timeout, mark, id, use;
  std::optional<uint16_t> zone;
  std::optional<uint8_t> tcp_state;  // TCP_CONNTRACK_*
  // Present only while net.netfilter.nf_conntrack_acct is on (it was when
  // the entry was created).
  std::optional<ConntrackCounters> counters_orig, counters_reply;
  bool malformed = false;  // an attribute was cut or damaged: the rest was dropped

  // NAT, derived from the tuples: the reply of an untranslated connection
  // is the original inverted. The source was translated (SNAT, masquerade)
  // to the reply's destination address and port when they differ from the
  // original source; the destination (DNAT, redirect) to the reply's
  // source when that differs from the original destination.
  bool source_translated() const;
  bool destination_translated() const;
};

// Parses one ctnetlink entry (IPCTNL_MSG_CT_NEW, as a dump sends them);
// nullopt if of another type or shorter than its nfgenmsg.
std::optional<Conntrack> parse_conntrack(const nlmsghdr* m);

// IPS_* bits as conntrack's words, comma separated: EXPECTED, SEEN_REPLY,
// ASSURED, CONFIRMED, SRC_NAT, DST_NAT, SEQ_ADJUST, SRC_NAT_DONE,
// DST_NAT_DONE, DYING, FIXED_TIMEOUT, TEMPLATE, UNTRACKED, HELPER, OFFLOAD,
// HW_OFFLOAD; unknown bits in hex.
std::string conntrack_status_text(uint32_t status);
// TCP_CONNTRACK_* as conntrack prints it (SYN_SENT, ESTABLISHED, ...); "" past the known ones.
std::string_view tcp_conntrack_state_name(uint8_t state);
// The IP protocol's name as conntrack prints it (tcp, udp, icmp, icmpv6,
// sctp, dccp, gre, udplite); "" for others.
std::string_view ip_protocol_name(uint8_t protocol);

}  // namespace netsql::kernel
