// netstat -s as net-tools 2.10 prints it. netstat knows a sentence for
// some counters of each table and looks them up by binary search in
// tables that are not quite sorted, so a few counters it has a sentence
// for (Forwarding, TCPTimeouts, ...) miss and print as "Name: value"
// instead, as every counter without a sentence does when it is not zero.
// The same search over the same order finds what netstat finds. The
// sentences are netstat's (its output is the interface scripts grep).
#include "netstat_stats.h"

#include <fmt/format.h>

#include <span>
#include <string_view>

namespace netsql::shell {
namespace {

// How netstat prints a counter it found: Number always, OptNumber when not
// zero, Silent never (static settings such as DefaultTTL, and MaxConn), In
// and Out as lines of the ICMP input or output histogram, when not zero.
enum Kind { Number, OptNumber, Silent, In, Out };
// netstat's `state`: the kind of the last line, which decides the indent.
enum State { kNormal = 0, kIn = 1, kOut = 2 };

struct Entry {
  std::string_view title;
  const char* sentence;  // {} is the value
  Kind kind;
};

// In netstat's order ("Keep the entries sorted!" says its source; they are
// not all, and the search below goes wrong where they are not).
constexpr Entry kIp[] = {
    {"DefaultTTL", "", Silent},
    {"Forwarding", "", Silent},
    {"ForwDatagrams", "{} forwarded", Number},
    {"FragCreates", "{} fragments created", OptNumber},
    {"FragFails", "{} outgoing packets failed fragmentation", OptNumber},
    {"FragOKs", "{} outgoing packets fragmented ok", OptNumber},
    {"InAddrErrors", "{} with invalid addresses", OptNumber},
    {"InDelivers", "{} incoming packets delivered", Number},
    {"InDiscards", "{} incoming packets discarded", Number},
    {"InHdrErrors", "{} with invalid headers", OptNumber},
    {"InReceives", "{} total packets received", Number},
    {"InUnknownProtos", "{} with unknown protocol", OptNumber},
    {"OutDiscards", "{} outgoing packets dropped", OptNumber},
    {"OutNoRoutes", "{} dropped because of missing route", OptNumber},
    {"OutRequests", "{} requests sent out", Number},
    {"ReasmFails", "{} packet reassemblies failed", OptNumber},
    {"ReasmOKs", "{} packets reassembled ok", OptNumber},
    {"ReasmReqds", "{} reassemblies required", OptNumber},
    {"ReasmTimeout", "{} fragments dropped after timeout", OptNumber},
};

constexpr Entry kIp6[] = {
    {"Ip6FragCreates", "{} fragments created", OptNumber},
    {"Ip6FragFails", "{} outgoing packets failed fragmentation", OptNumber},
    {"Ip6FragOKs", "{} outgoing packets fragmented ok", OptNumber},
    {"Ip6InAddrErrors", "{} with invalid addresses", OptNumber},
    {"Ip6InDelivers", "{} incoming packets delivered", Number},
    {"Ip6InDiscards", "{} incoming packets discarded", Number},
    {"Ip6InHdrErrors", "{} with invalid headers", OptNumber},
    {"Ip6InMcastPkts", "{} incoming multicast packets", OptNumber},
    {"Ip6InNoRoutes", "{} incoming packets with no route", OptNumber},
    {"Ip6InReceives", "{} total packets received", Number},
    {"Ip6InTooBigErrors", "{} with packets too big", OptNumber},
    {"Ip6InTruncatedPkts", "{} with truncated packets", OptNumber},
    {"Ip6InUnknownProtos", "{} with unknown protocol", OptNumber},
    {"Ip6OutDiscards", "{} outgoing packets dropped", OptNumber},
    {"Ip6OutForwDatagrams", "{} forwarded", Number},
    {"Ip6OutMcastPkts", "{} outgoing multicast packets", OptNumber},
    {"Ip6OutNoRoutes", "{} dropped because of missing route", OptNumber},
    {"Ip6OutRequests", "{} requests sent out", Number},
    {"Ip6ReasmFails", "{} packet reassemblies failed", OptNumber},
    {"Ip6ReasmOKs", "{} packets reassembled ok", OptNumber},
    {"Ip6ReasmReqds", "{} reassemblies required", OptNumber},
    {"Ip6ReasmTimeout", "{} fragments dropped after timeout", OptNumber},
};

constexpr Entry kIcmp[] = {
    {"InAddrMaskReps", "address mask replies: {}", In},
    {"InAddrMasks", "address mask request: {}", In},
    {"InDestUnreachs", "destination unreachable: {}", In},
    {"InEchoReps", "echo replies: {}", In},
    {"InEchos", "echo requests: {}", In},
    {"InErrors", "{} input ICMP message failed", Number},
    {"InMsgs", "{} ICMP messages received", Number},
    {"InParmProbs", "wrong parameters: {}", In},
    {"InRedirects", "redirects: {}", In},
    {"InSrcQuenchs", "source quenches: {}", In},
    {"InTimeExcds", "timeout in transit: {}", In},
    {"InTimestampReps", "timestamp reply: {}", In},
    {"InTimestamps", "timestamp request: {}", In},
    {"OutAddrMaskReps", "address mask replies: {}", Out},
    {"OutAddrMasks", "address mask requests: {}", Out},
    {"OutDestUnreachs", "destination unreachable: {}", Out},
    {"OutEchoReps", "echo replies: {}", Out},
    {"OutEchos", "echo requests: {}", Out},
    {"OutErrors", "{} ICMP messages failed", Number},
    {"OutMsgs", "{} ICMP messages sent", Number},
    {"OutParmProbs", "wrong parameters: {}", Out},
    {"OutRedirects", "redirect: {}", Out},
    {"OutSrcQuenchs", "source quench: {}", Out},
    {"OutTimeExcds", "time exceeded: {}", Out},
    {"OutTimestampReps", "timestamp replies: {}", Out},
    {"OutTimestamps", "timestamp requests: {}", Out},
};

constexpr Entry kIcmp6[] = {
    {"Icmp6InDestUnreachs", "destination unreachable: {}", In},
    {"Icmp6InEchoReplies", "echo replies: {}", In},
    {"Icmp6InEchos", "echo requests: {}", In},
    {"Icmp6InErrors", "{} input ICMP message failed", Number},
    {"Icmp6InGroupMembQueries", "group member queries: {}", In},
    {"Icmp6InGroupMembReductions", "group member reductions: {}", In},
    {"Icmp6InGroupMembResponses", "group member responses: {}", In},
    {"Icmp6InMsgs", "{} ICMP messages received", Number},
    {"Icmp6InNeighborAdvertisements", "neighbour advertisement: {}", In},
    {"Icmp6InNeighborSolicits", "neighbour solicits: {}", In},
    {"Icmp6InParmProblems", "parameter problem: {}", In},
    {"Icmp6InPktTooBigs", "packets too big: {}", In},
    {"Icmp6InRedirects", "redirects: {}", In},
    {"Icmp6InRouterAdvertisements", "router advertisement: {}", In},
    {"Icmp6InRouterSolicits", "router solicits: {}", In},
    {"Icmp6InTimeExcds", "received ICMPv6 time exceeded: {}", In},
    {"Icmp6OutDestUnreachs", "destination unreachable: {}", Out},
    {"Icmp6OutEchoReplies", "echo replies: {}", Out},
    {"Icmp6OutEchos", "echo requests: {}", Out},
    {"Icmp6OutGroupMembQueries", "group member queries: {}", Out},
    {"Icmp6OutGroupMembReductions", "group member reductions: {}", Out},
    {"Icmp6OutGroupMembResponses", "group member responses: {}", Out},
    {"Icmp6OutMsgs", "{} ICMP messages sent", Number},
    {"Icmp6OutNeighborAdvertisements", "neighbor advertisements: {}", Out},
    {"Icmp6OutNeighborSolicits", "neighbor solicits: {}", Out},
    {"Icmp6OutParmProblems", "parameter problem: {}", Out},
    {"Icmp6OutPktTooBigs", "packets too big: {}", Out},
    {"Icmp6OutRedirects", "redirects: {}", Out},
    {"Icmp6OutRouterAdvertisements ", "router advertisement: {}", Out},  // sic: the blank never matches
    {"Icmp6OutRouterSolicits", "router solicits: {}", Out},
    {"Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: {}", Out},
};

constexpr Entry kTcp[] = {
    {"ActiveOpens", "{} active connection openings", Number},
    {"AttemptFails", "{} failed connection attempts", Number},
    {"CurrEstab", "{} connections established", Number},
    {"EstabResets", "{} connection resets received", Number},
    {"InErrs", "{} bad segments received", Number},
    {"InSegs", "{} segments received", Number},
    {"MaxConn", "", Silent},
    {"OutRsts", "{} resets sent", Number},
    {"OutSegs", "{} segments sent out", Number},
    {"PassiveOpens", "{} passive connection openings", Number},
    {"RetransSegs", "{} segments retransmitted", Number},
    {"RtoAlgorithm", "", Silent},
    {"RtoMax", "", Silent},
    {"RtoMin", "", Silent},
};

constexpr Entry kUdp[] = {
    {"InDatagrams", "{} packets received", Number},
    {"InErrors", "{} packet receive errors", Number},
    {"NoPorts", "{} packets to unknown port received", Number},
    {"OutDatagrams", "{} packets sent", Number},
    {"RcvbufErrors", "{} receive buffer errors", Number},
    {"SndbufErrors", "{} send buffer errors", Number},
};

constexpr Entry kUdp6[] = {
    {"Udp6InDatagrams", "{} packets received", Number},
    {"Udp6InErrors", "{} packet receive errors", Number},
    {"Udp6NoPorts", "{} packets to unknown port received", Number},
    {"Udp6OutDatagrams", "{} packets sent", Number},
};

constexpr Entry kTcpExt[] = {
    {"DelayedACKLocked", "{} delayed acks further delayed because of locked socket", OptNumber},
    {"DelayedACKLost", "Quick ack mode was activated {} times", OptNumber},
    {"DelayedACKs", "{} delayed acks sent", OptNumber},
    {"EmbryonicRsts", "{} resets received for embryonic SYN_RECV sockets", OptNumber},
    {"ListenDrops", "{} SYNs to LISTEN sockets dropped", OptNumber},
    {"ListenOverflows", "{} times the listen queue of a socket overflowed", OptNumber},
    {"LockDroppedIcmps", "{} ICMP packets dropped because socket was locked", OptNumber},
    {"OfoPruned", "{} packets dropped from out-of-order queue because of socket buffer overrun", OptNumber},
    {"OutOfWindowIcmps", "{} ICMP packets dropped because they were out-of-window", OptNumber},
    {"PAWSActive", "{} active connections rejected because of time stamp", OptNumber},
    {"PAWSEstab", "{} packetes rejected in established connections because of timestamp", OptNumber},
    {"PAWSPassive", "{} passive connections rejected because of time stamp", OptNumber},
    {"PruneCalled", "{} packets pruned from receive queue because of socket buffer overrun", OptNumber},
    {"RcvPruned", "{} packets pruned from receive queue", OptNumber},
    {"SockMallocOOM", "Ran {} times out of system memory during packet sending", OptNumber},
    {"SyncookiesFailed", "{} invalid SYN cookies received", OptNumber},
    {"SyncookiesRecv", "{} SYN cookies received", OptNumber},
    {"SyncookiesSent", "{} SYN cookies sent", OptNumber},
    {"TCPAbortFailed", "{} times unable to send RST due to no memory", OptNumber},
    {"TCPAbortOnClose", "{} connections reset due to early user close", OptNumber},
    {"TCPAbortOnData", "{} connections reset due to unexpected data", OptNumber},
    {"TCPAbortOnLinger", "{} connections aborted after user close in linger timeout", OptNumber},
    {"TCPAbortOnMemory", "{} connections aborted due to memory pressure", OptNumber},
    {"TCPAbortOnSyn", "{} connections reset due to unexpected SYN", OptNumber},
    {"TCPAbortOnTimeout", "{} connections aborted due to timeout", OptNumber},
    {"TCPDirectCopyFromBacklog", "{} bytes directly in process context from backlog", OptNumber},
    {"TCPDirectCopyFromPrequeue", "{} bytes directly received in process context from prequeue", OptNumber},
    {"TCPDSACKOfoRecv", "{} DSACKs for out of order packets received", OptNumber},
    {"TCPDSACKOfoSent", "{} DSACKs sent for out of order packets", OptNumber},
    {"TCPDSACKOldSent", "{} DSACKs sent for old packets", OptNumber},
    {"TCPDSACKRecv", "{} DSACKs received", OptNumber},
    {"TCPDSackUndo", "{} congestion window recovered without slow start using DSACK", OptNumber},
    {"TCPDSACKUndo", "{} congestion windows recovered without slow start by DSACK", OptNumber},
    {"TCPFACKReorder", "Detected reordering {} times using FACK", OptNumber},
    {"TCPFastRetrans", "{} fast retransmits", OptNumber},
    {"TCPForwardRetrans", "{} forward retransmits", OptNumber},
    {"TCPFullUndo", "{} congestion windows fully recovered without slow start", OptNumber},
    {"TCPHPAcks", "{} predicted acknowledgments", OptNumber},
    {"TCPHPHits", "{} packet headers predicted", Number},
    {"TCPHPHitsToUser", "{} packet headers predicted and directly queued to user", OptNumber},
    {"TCPLossFailures", "{} timeouts in loss state", OptNumber},
    {"TCPLoss", "{} TCP data loss events", OptNumber},
    {"TCPLossUndo", "{} congestion windows recovered without slow start after partial ack", OptNumber},
    {"TCPLostRetransmits", "{} retransmits lost", OptNumber},
    {"TCPMemoryPressures", "TCP ran low on memory {} times", OptNumber},
    {"TCPPartialUndo", "{} congestion windows partially recovered using Hoe heuristic", OptNumber},
    {"TCPPrequeued", "{} packets directly queued to recvmsg prequeue", OptNumber},
    {"TCPPrequeueDropped", "{} packets dropped from prequeue", OptNumber},
    {"TCPPureAcks", "{} acknowledgments not containing data payload received", OptNumber},
    {"TCPRcvCollapsed", "{} packets collapsed in receive queue due to low socket buffer", OptNumber},
    {"TCPRenoFailures", "{} timeouts after reno fast retransmit", OptNumber},
    {"TCPRenoRecoveryFailed", "{} reno fast retransmits failed", OptNumber},
    {"TCPRenoRecoveryFail", "{} classic Reno fast retransmits failed", OptNumber},
    {"TCPRenoRecovery", "{} times recovered from packet loss due to fast retransmit", OptNumber},
    {"TCPRenoReorder", "Detected reordering {} times using reno fast retransmit", OptNumber},
    {"TCPSackFailures", "{} timeouts after SACK recovery", OptNumber},
    {"TCPSackRecoveryFail", "{} SACK retransmits failed", OptNumber},
    {"TCPSackRecovery", "{} times recovered from packet loss by selective acknowledgements", OptNumber},
    {"TCPSACKReneging", "{} bad SACK blocks received", OptNumber},
    {"TCPSACKReorder", "Detected reordering {} times using SACK", OptNumber},
    {"TCPSchedulerFailed", "{} times receiver scheduled too late for direct processing", OptNumber},
    {"TCPSlowStartRetrans", "{} retransmits in slow start", OptNumber},
    {"TCPTimeouts", "{} other TCP timeouts", OptNumber},
    {"TCPTSReorder", "Detected reordering {} times using time stamp", OptNumber},
    {"TWKilled", "{} TCP sockets finished time wait in slow timer", OptNumber},
    {"TW", "{} TCP sockets finished time wait in fast timer", OptNumber},
    {"TWRecycled", "{} time wait sockets recycled by time stamp", OptNumber},
};

// glibc's bsearch over `entries` as they stand.
const Entry* lookup(std::span<const Entry> entries, std::string_view title) {
  size_t lo = 0, hi = entries.size();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = title.compare(entries[mid].title);
    if (c < 0) hi = mid;
    else if (c > 0) lo = mid + 1;
    else return &entries[mid];
  }
  return nullptr;
}

constexpr int kIndent[] = {4, 8, 8};
constexpr const char* kHistogram[] = {"", "ICMP input histogram:", "ICMP output histogram:"};

}  // namespace

struct StatsPrinter::Table {
  std::string_view protocol;
  std::span<const Entry> entries;
  bool StatsFilter::*selected;
};

namespace {
const StatsPrinter::Table kTables[] = {
    {"Ip", kIp, &StatsFilter::raw},      {"Icmp", kIcmp, &StatsFilter::raw},   {"Tcp", kTcp, &StatsFilter::tcp},
    {"Udp", kUdp, &StatsFilter::udp},    {"TcpExt", kTcpExt, &StatsFilter::tcp}, {"Ip6", kIp6, &StatsFilter::raw},
    {"Icmp6", kIcmp6, &StatsFilter::raw}, {"Udp6", kUdp6, &StatsFilter::udp},  {"Tcp6", kTcp, &StatsFilter::tcp},
};
}  // namespace

// A table netstat knows prints its heading when selected and starts at
// the normal indent; one it does not know always prints, and keeps the
// indent the table before it ended with.
void StatsPrinter::begin(const std::string& protocol) {
  started_ = true;
  protocol_ = protocol;
  table_ = nullptr;
  for (const Table& t : kTables)
    if (t.protocol == protocol) table_ = &t;
  shown_ = !table_ || filter_.*(table_->selected);
  if (shown_) out_ << protocol << ":\n";
  if (table_) state_ = kNormal;
}

void StatsPrinter::print(const std::string& title, uint64_t value) {
  const Entry* e = table_ ? lookup(table_->entries, title) : nullptr;
  if (!e) {
    if (value) out_ << std::string(kIndent[state_], ' ') << title << ": " << value << "\n";
    return;
  }
  if (e->kind == Silent) return;
  if (e->kind == In || e->kind == Out) {
    int histogram = e->kind == In ? kIn : kOut;
    if (state_ != histogram) out_ << std::string(kIndent[state_], ' ') << kHistogram[histogram] << "\n";
    state_ = histogram;
  } else {
    state_ = kNormal;
  }
  if (value || e->kind == Number)
    out_ << std::string(kIndent[state_], ' ') << fmt::format(fmt::runtime(e->sentence), value) << "\n";
}

void StatsPrinter::counter(const std::string& protocol, const std::string& name, int64_t value) {
  if (!started_ || protocol != protocol_) begin(protocol);
  if (!shown_) return;
  // snmp6 names carry their protocol (Ip6InReceives); netstat looks them up whole.
  bool six = !protocol.empty() && protocol.back() == '6';
  print(six ? protocol + name : name, static_cast<uint64_t>(value));
}

}  // namespace netsql::shell
