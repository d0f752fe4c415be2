// closed_sockets: TCP and UDP sockets as the kernel destroys them, from the
// sock_diag destroy multicast groups (kernel/sock_destroy.h; what `ss -E`
// prints). A scan listens for `wait_ms` and returns each socket as its
// announcement arrives, so LIMIT ends it early. The protocol and family
// constraints choose the groups joined; port and address constraints are
// checked before a row is produced. opened_time and duration_ms come from a
// BPF tracker of TCP state changes (kernel/sock_times.h), held by a scan
// that reads them and loaded before it subscribes.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "kernel/sock_destroy.h"
#include "kernel/sock_times.h"
#include "vtabs/filters.h"
#include "vtabs/inet_sockets.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

using namespace inet;

enum Col {
  FAMILY, PROTOCOL, LOCAL_ADDRESS, LOCAL_PORT, REMOTE_ADDRESS, REMOTE_PORT, STATE, RECV_Q, SEND_Q, COOKIE,
  INFO_FIRST,
  CLOSED_TIME = INFO_FIRST + static_cast<int>(TcpInfo::kCount), OPENED_TIME, DURATION_MS, OVERRUNS, WAIT_MS, kCount
};

constexpr int64_t kDefaultWaitMs = 1000;
constexpr int64_t kMaxWaitMs = 86'400'000;  // a day
constexpr int64_t kUntilInterrupted = -1;   // the schedule's collector listens for good
// The receive buffer of a scan that listens until interrupted (the
// schedule's collector), bytes (as root; else up to net.core.rmem_max; the
// kernel doubles it): kernel memory taken only while announcements wait, so
// a reader held up for a moment (its consumer writing a batch, the CPU
// busy) loses nothing: about 10,000 TCP announcements. A bounded scan keeps
// the netlink default (1 MiB counted against 2 MiB).
constexpr int kStreamReceiveBuffer = 8 << 20;
// Column::needs: the column comes from the socket-times tracker.
constexpr unsigned kSockTimes = 1;

constexpr auto kCommon = common_columns("");
// A column of the common block, pushed down here to do `what`: for = and
// IN only (the cursor checks lists of values, not ranges or subnets).
constexpr Column checked(Column c, std::string_view what) {
  c.push_doc = what;
  c.push &= ~kPushRange;
  c.function = {};
  return c;
}
constexpr std::string_view kChecked = "checked before the row is produced";

constexpr std::array<Column, INFO_FIRST> kSocketColumns{{
    checked(kCommon[inet::FAMILY], "picks the destroy groups joined"),
    {"protocol", Type::Text, "'tcp' or 'udp'", kPushIn, 0.5, "picks the destroy groups joined"},
    checked(kCommon[inet::LOCAL_ADDRESS], kChecked),
    checked(kCommon[inet::LOCAL_PORT], kChecked),
    checked(kCommon[inet::REMOTE_ADDRESS], kChecked),
    checked(kCommon[inet::REMOTE_PORT], kChecked),
    {"state", Type::Text, "state at destruction: CLOSE for TCP (every TCP socket ends there); ESTABLISHED or UNCONN "
                          "for UDP"},
    {"recv_q", Type::Integer, "bytes left unread at destruction"},
    {"send_q", Type::Integer, "bytes left unsent or unacknowledged at destruction; NULL for UDP"},
    {"cookie", Type::Integer, "kernel socket cookie: the cookie tcp_sockets showed while the socket lived"},
}};
constexpr std::array<Column, 5> kTailColumns{{
    {"closed_time", Type::Integer, "when the announcement arrived, unix milliseconds (the kernel sends it from a "
                                   "work queue right after freeing the socket)"},
    needing(kSockTimes, {"opened_time", Type::Integer,
                         "when the TCP socket opened (connect, listen, or for an accepted one the handshake's last ACK), unix "
     "milliseconds, recorded by a BPF tracker of TCP state changes that a query naming this column or duration_ms "
     "loads before it starts listening; NULL for UDP, for a socket opened before the tracker was loaded (before "
     "the scan began, unless another scan of the process held it already), for one evicted "
     "from the tracker's table (131072 open sockets, in any namespace, least recently changed first) or, once "
     "closed, dropped before its announcement was read (the last 32768 closes are kept), and when BPF cannot be loaded (needs CAP_BPF and CAP_PERFMON and a kernel with BTF; "
     "an SQLITE_WARNING through sqlite3_log says why)",
     }),
    needing(kSockTimes, {"duration_ms", Type::Integer,
     "how long the TCP socket lived, milliseconds: from opened_time to the moment the kernel moved it to CLOSE (or, "
     "if that was not recorded, to closed_time); NULL whenever opened_time is",
     }),
    {"overruns", Type::Integer, "times the kernel reported, before this row, that announcements were dropped "
                                "because the receive queue was full (ENOBUFS; each time one or more sockets are "
                                "missing); 0 means none was lost so far"},
    {"wait_ms", Type::Integer,
     "how long to listen, milliseconds, 0 to 86400000 (0 returns at once, no rows), or -1: until the query is "
     "interrupted (or its LIMIT is met); 1000 when not given; as a table argument closed_sockets(5000) or a "
     "constraint wait_ms = 5000; echoes it",
     kPushEq, 1.0, "sets the wait", Role::Data, true},
}};

constexpr auto kColumns = concat(kSocketColumns, kTcpInfoColumns1, kTcpInfoColumns2, kTailColumns);
static_assert(kColumns.size() == kCount);

class ClosedCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    watch_.reset();
    times_.reset();
    taken_cookies_.clear();
    taken_.clear();
    taken_at_ = 0;
    eof_ = true;
    overruns_warned_ = 0;
    int64_t wait_ms = kDefaultWaitMs;
    if (const auto* v = q.values(WAIT_MS)) {
      std::optional<int64_t> w = v->front().as_integer();
      if (!w || *w < kUntilInterrupted || *w > kMaxWaitMs)
        throw Error(fmt::format("wait_ms must be an integer from 0 to {} (milliseconds), or -1 (until interrupted)",
                                kMaxWaitMs));
      wait_ms = *w;
    }
    wait_ms_ = wait_ms;
    uint32_t protocols = 3;  // bit 0 tcp, bit 1 udp
    if (const auto* v = q.values(PROTOCOL))
      protocols = resolve_mask(
          *v,
          [](std::string_view n) -> std::optional<uint32_t> {
            if (n == "tcp") return 1u;
            if (n == "udp") return 2u;
            return std::nullopt;
          },
          [](std::string_view n) { return "invalid protocol '" + std::string(n) + "' (expected 'tcp' or 'udp')"; });
    uint8_t groups = 0;
    for (uint8_t f : families(q, FAMILY)) {
      if (protocols & 1) groups |= kernel::destroy_group(f, IPPROTO_TCP);
      if (protocols & 2) groups |= kernel::destroy_group(f, IPPROTO_UDP);
    }
    bool impossible = groups == 0;
    for (auto [col, into] : {std::pair{LOCAL_PORT, &local_ports_}, std::pair{REMOTE_PORT, &remote_ports_}}) {
      into->clear();
      if (const auto* v = q.values(col)) {
        *into = ports_from(*v);
        impossible |= into->empty();
      }
      checks_port_[col == REMOTE_PORT] = q.values(col) != nullptr;
    }
    for (auto [col, into] : {std::pair{LOCAL_ADDRESS, &local_addrs_}, std::pair{REMOTE_ADDRESS, &remote_addrs_}}) {
      into->clear();
      if (const auto* v = q.values(col)) {
        for (const auto& val : *v)
          if (const std::string* t = val.as_text())
            if (auto h = kernel::parse_host(*t)) into->push_back(kernel::address_text(h->family, h->bytes));
        impossible |= into->empty();
      }
    }
    if (impossible) return;  // no socket can match: listen to nothing
    // The tracker first: every connection opened once the scan listens has its time.
    unsigned needs = 0;
    for (int c = 0; c < kCount; ++c)
      if (q.uses(c)) needs |= kColumns[static_cast<size_t>(c)].needs;
    if (needs & kSockTimes) {
      times_.emplace();
      if (!times_->failure().empty())
        warn("closed_sockets: opened_time and duration_ms are NULL: " + times_->failure());
    }
    deadline_ = wait_ms == kUntilInterrupted ? std::chrono::steady_clock::time_point::max()
                                             : std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    interrupted_ = q.interrupted;
    watch_.emplace(*q.netns, groups, wait_ms == kUntilInterrupted ? kStreamReceiveBuffer : 0);
    eof_ = false;
    next();
  }

  bool eof() const override { return eof_; }

  void next() override {
    auto stop = [this](bool signalled) { return interrupted_ ? interrupted_() : signalled; };
    for (;;) {
      const nlmsghdr* m;
      try {
        m = watch_->next(deadline_, stop);
      } catch (const kernel::WaitStopped&) {
        // A cursor driven outside SQLite (no Query::interrupted) takes a
        // signal for Ctrl-C; under SQLite only sqlite3_interrupt ends it.
        throw Error(interrupted_ ? "interrupted" : "wait cut short by a signal (interrupted)");
      }
      warn_overruns();
      if (!m) break;
      if (kernel::parse_inet_sock(m, sock_) && wanted()) return;
    }
    watch_.reset();
    times_.reset();
    eof_ = true;
  }

  void column(int col, Cell& out) override {
    const inet_diag_msg& m = sock_.msg;
    switch (col) {
      case FAMILY: return out.text(family_name(m.idiag_family));
      case PROTOCOL: {
        auto p = sock_.attributes().get<uint8_t>(INET_DIAG_PROTOCOL);
        if (!p) return out.null();
        return out.text(*p == IPPROTO_TCP ? "tcp" : *p == IPPROTO_UDP ? "udp" : *p == IPPROTO_UDPLITE ? "udplite" : "other");
      }
      case LOCAL_ADDRESS: return out.text(sock_.local_address());
      case LOCAL_PORT: return out.integer(sock_.local_port());
      case REMOTE_ADDRESS: return out.text(sock_.remote_address());
      case REMOTE_PORT: return out.integer(sock_.remote_port());
      case STATE:
        if (sock_.attributes().get<uint8_t>(INET_DIAG_PROTOCOL) == IPPROTO_TCP)
          return out.text(kernel::tcp_state_name(m.idiag_state));
        return out.text(m.idiag_state == kernel::kEstablished ? "ESTABLISHED" : "UNCONN");
      case RECV_Q: return out.integer(m.idiag_rqueue);
      case SEND_Q:  // a UDP socket's write allocation reads one below zero once freed
        return m.idiag_wqueue == UINT32_MAX ? out.null() : out.integer(m.idiag_wqueue);
      case COOKIE: return out.integer(static_cast<int64_t>(sock_.cookie()));
      case CLOSED_TIME: return out.integer(received_ms_);
      case OPENED_TIME:
        if (!opened_) return out.null();
        return out.integer(opened_->opened_unix_ns / 1'000'000);
      case DURATION_MS:
        if (!opened_) return out.null();
        if (opened_->lived_ns) return out.integer(*opened_->lived_ns / 1'000'000);
        return out.integer(received_ms_ - opened_->opened_unix_ns / 1'000'000);
      case OVERRUNS: return out.integer(static_cast<int64_t>(overruns_));
      case WAIT_MS: return out.integer(wait_ms_);  // echoed: SQLite re-checks wait_ms = ...
      default: break;
    }
    if (col >= INFO_FIRST && col < CLOSED_TIME) return tcp_info_column(sock_, static_cast<TcpInfo>(col - INFO_FIRST), out);
    out.null();
  }

 private:
  // The port and address constraints (SQLite checks them again).
  bool wanted() {
    received_ms_ = watch_->received_ms();
    overruns_ = watch_->counters().overruns;
    // Taken before the filters: a socket they skip leaves no entry behind
    // to crowd out the tracker's long-lived ones.
    opened_.reset();
    if (times_ && is_tcp(sock_)) opened_ = times_of(sock_.cookie());
    auto in = [](const auto& list, const auto& v) { return std::find(list.begin(), list.end(), v) != list.end(); };
    if (checks_port_[0] && !in(local_ports_, sock_.local_port())) return false;
    if (checks_port_[1] && !in(remote_ports_, sock_.remote_port())) return false;
    if (!local_addrs_.empty() && !in(local_addrs_, sock_.local_address())) return false;
    if (!remote_addrs_.empty() && !in(remote_addrs_, sock_.remote_address())) return false;
    return true;
  }

  static bool is_tcp(kernel::InetSock& s) { return s.attributes().get<uint8_t>(INET_DIAG_PROTOCOL) == IPPROTO_TCP; }

  // The tracker's times of the TCP socket `cookie`, the current message's.
  // Taken for it and every TCP socket received with it at once (one drain
  // of the tracker's ring, and at most one bpf() call per 64 sockets it had
  // no record of, for a receive's worth, not per row).
  std::optional<kernel::SockTimes> times_of(uint64_t cookie) {
    for (; taken_at_ < taken_.size(); ++taken_at_)
      if (taken_cookies_[taken_at_] == cookie) return taken_[taken_at_++];
    taken_cookies_.assign(1, cookie);
    kernel::InetSock waiting;
    watch_->for_each_waiting([&](const nlmsghdr* m) {
      if (kernel::parse_inet_sock(m, waiting) && is_tcp(waiting)) taken_cookies_.push_back(waiting.cookie());
    });
    taken_.resize(taken_cookies_.size());
    times_->take(taken_cookies_, taken_);
    taken_at_ = 1;
    return taken_[0];
  }

  // Says, once per new overrun, that rows are missing.
  void warn_overruns() {
    uint64_t n = watch_->counters().overruns;
    if (n == overruns_warned_) return;
    overruns_warned_ = n;
    warn(fmt::format("closed_sockets: the kernel dropped destroy announcements (ENOBUFS, {} time{} in this scan): "
                     "sockets are missing from the result",
                     n, n == 1 ? "" : "s"));
  }

  std::optional<kernel::SockTimesHold> times_;  // while a scan reads opened_time or duration_ms
  std::optional<kernel::DestroyWatch> watch_;
  std::optional<kernel::SockTimes> opened_;  // the row's, from times_
  // What times_of took for the sockets of one receive, in their order; the
  // rows before taken_at_ have had theirs.
  std::vector<uint64_t> taken_cookies_;
  std::vector<std::optional<kernel::SockTimes>> taken_;
  size_t taken_at_ = 0;
  kernel::InetSock sock_;
  bool eof_ = true;
  std::chrono::steady_clock::time_point deadline_;
  std::function<bool()> interrupted_;
  std::vector<uint16_t> local_ports_, remote_ports_;
  bool checks_port_[2] = {false, false};
  std::vector<std::string> local_addrs_, remote_addrs_;
  int64_t wait_ms_ = kDefaultWaitMs;
  int64_t received_ms_ = 0;
  uint64_t overruns_ = 0, overruns_warned_ = 0;
};

}  // namespace

const TableDef kClosedSockets{
    "closed_sockets",
    "TCP and UDP sockets of the network namespace as the kernel destroys them, from the sock_diag destroy groups "
    "(what ss -E prints), with the final tcp_info: a scan listens for wait_ms milliseconds and returns each socket "
    "as it is announced (LIMIT ends it early; wait_ms -1 listens until interrupted, as the schedule's stream "
    "queries do). The announcement carries no uid, inode or congestion algorithm, nor when the socket was "
    "created: tcp_info has no open time (last_send_ms and last_recv_ms count back from the last data, busy_ms "
    "only the time spent sending): opened_time and duration_ms come from a BPF tracker of TCP state changes that "
    "a query naming them loads for its scan.",
    kColumns,
    100,
    [] { return std::unique_ptr<Cursor>(new ClosedCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
