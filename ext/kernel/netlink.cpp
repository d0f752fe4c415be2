#include "kernel/netlink.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace netsql::kernel {

std::optional<Attr> AttrWalker::next() {
  if (rest_.empty()) return std::nullopt;
  if (rest_.size() < 4) {
    malformed_ = true;
    return std::nullopt;
  }
  uint16_t len, type;
  std::memcpy(&len, rest_.data(), 2);
  std::memcpy(&type, rest_.data() + 2, 2);
  if (len < 4 || len > rest_.size()) {
    malformed_ = true;
    rest_ = {};
    return std::nullopt;
  }
  Attr a{static_cast<uint16_t>(type & NLA_TYPE_MASK), rest_.subspan(4, len - 4)};
  size_t step = align4(len);
  rest_ = step >= rest_.size() ? Bytes{} : rest_.subspan(step);
  return a;
}

void throw_errno(int err, const std::string& what) {
  throw NetlinkError(err, what + ": " + std::strerror(err));
}

NetlinkSocket::NetlinkSocket(int protocol) {
  fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd_) throw_errno(errno, "netlink socket");
  // A big buffer lets the kernel queue whole dump batches. Best effort: the
  // kernel caps it at net.core.rmem_max without CAP_NET_ADMIN.
  int rcvbuf = 1 << 20;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int one = 1;
  ::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  ::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
    throw_errno(errno, "netlink bind");
  socklen_t len = sizeof local;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &len) < 0)
    throw_errno(errno, "netlink getsockname");
  port_id_ = local.nl_pid;
}

Request::Request(uint16_t type, uint16_t flags) {
  nlmsghdr h{};
  h.nlmsg_len = sizeof h;
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  append_bytes(&h, sizeof h);
}

void Request::append_bytes(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  buf_.insert(buf_.end(), b, b + n);
  buf_.resize(align4(buf_.size()), 0);
  uint32_t len = static_cast<uint32_t>(buf_.size());
  std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
}

void Request::add_attr(uint16_t type, const void* p, size_t n) {
  if (n > kMaxAttrPayload)
    throw NetlinkError(EMSGSIZE, "netlink attribute of " + std::to_string(n) + " bytes exceeds nla_len's 16 bits");
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + n);
  a.nla_type = type;
  size_t at = buf_.size();
  buf_.resize(at + NLA_HDRLEN);
  std::memcpy(buf_.data() + at, &a, sizeof a);
  append_bytes(p, n);
}

Bytes payload_after(const nlmsghdr* m, size_t fixed) {
  size_t head = NLMSG_HDRLEN + align4(fixed);
  if (m->nlmsg_len < head) return {};
  return Bytes(reinterpret_cast<const uint8_t*>(m) + head, m->nlmsg_len - head);
}

Dump::Dump(NetlinkSocket& sock, Request& req)
    : sock_(sock), seq_(sock.next_seq()), buf_(std::make_unique_for_overwrite<uint8_t[]>(kDumpBuffer)), size_(kDumpBuffer) {
  auto& b = req.bytes();
  auto* h = reinterpret_cast<nlmsghdr*>(b.data());
  h->nlmsg_seq = seq_;
  h->nlmsg_pid = 0;
  single_ = (h->nlmsg_flags & NLM_F_REQUEST) && !(h->nlmsg_flags & (NLM_F_DUMP | NLM_F_ACK));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = ::sendto(sock_.fd(), b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno(errno, "netlink send");
}

bool Dump::fill() {
  for (;;) {
    ssize_t want = ::recv(sock_.fd(), nullptr, 0, MSG_PEEK | MSG_TRUNC);
    if (want < 0 && errno == EINTR) continue;
    if (want < 0) throw_errno(errno, "netlink receive");
    if (static_cast<size_t>(want) > size_) {
      buf_ = std::make_unique_for_overwrite<uint8_t[]>(static_cast<size_t>(want));
      size_ = static_cast<size_t>(want);
    }
    ssize_t n = ::recv(sock_.fd(), buf_.get(), size_, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(errno, "netlink receive");
    pos_ = 0;
    len_ = static_cast<size_t>(n);
    return len_ > 0;
  }
}

// The errno in a kernel error code (-errno); EIO for a code no kernel sends
// (the kernel's are -1..-4095), which must not be negated blindly: -INT_MIN
// overflows.
static int errno_of(int32_t code) { return code < 0 && code >= -4095 ? -code : EIO; }

// Extracts the extended-ACK text (NLMSGERR_ATTR_MSG) from an error message.
static std::string ext_ack_text(const nlmsghdr* m) {
  if (!(m->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(m->nlmsg_flags & NLM_F_CAPPED)) {
    nlmsgerr e;
    std::memcpy(&e, reinterpret_cast<const uint8_t*>(m) + NLMSG_HDRLEN, sizeof e);
    off += align4(e.msg.nlmsg_len) - sizeof(nlmsghdr);
  }
  if (off >= m->nlmsg_len) return {};
  AttrTable<NLMSGERR_ATTR_MAX + 1> t(Bytes(reinterpret_cast<const uint8_t*>(m) + off, m->nlmsg_len - off));
  auto s = t.str(NLMSGERR_ATTR_MSG);
  return s ? std::string(*s) : std::string();
}

const nlmsghdr* Dump::next() {
  while (!done_) {
    if (pos_ >= len_ && !fill()) throw NetlinkError(EIO, "netlink dump ended without NLMSG_DONE");
    if (len_ - pos_ < sizeof(nlmsghdr)) throw NetlinkError(EIO, "truncated netlink message header");
    const auto* m = reinterpret_cast<const nlmsghdr*>(buf_.get() + pos_);
    if (m->nlmsg_len < sizeof(nlmsghdr) || m->nlmsg_len > len_ - pos_)
      throw NetlinkError(EIO, "netlink message length out of bounds");
    pos_ += align4(m->nlmsg_len);
    // Stale replies to an earlier request on this socket: skip them.
    if (m->nlmsg_seq != seq_ || (m->nlmsg_pid != 0 && m->nlmsg_pid != sock_.port_id())) continue;
    if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted_ = true;
    if (m->nlmsg_type == NLMSG_NOOP) continue;
    if (m->nlmsg_type == NLMSG_DONE) {
      done_ = true;
      int32_t err = 0;
      if (m->nlmsg_len >= NLMSG_HDRLEN + sizeof err)
        std::memcpy(&err, reinterpret_cast<const uint8_t*>(m) + NLMSG_HDRLEN, sizeof err);
      if (err < 0) throw Refusal(errno_of(err), std::string("netlink dump: ") + std::strerror(errno_of(err)), {});
      return nullptr;
    }
    if (m->nlmsg_type == NLMSG_ERROR) {
      done_ = true;
      nlmsgerr e{};
      if (m->nlmsg_len < NLMSG_HDRLEN + sizeof e) throw NetlinkError(EIO, "truncated netlink error message");
      std::memcpy(&e, reinterpret_cast<const uint8_t*>(m) + NLMSG_HDRLEN, sizeof e);
      if (e.error == 0) return nullptr;  // a plain ACK
      int err = errno_of(e.error);
      std::string text = std::strerror(err);
      std::string ack = ext_ack_text(m);
      if (!ack.empty()) text += " (" + ack + ")";
      throw Refusal(err, "netlink request refused: " + text, ack);
    }
    done_ = single_;
    return m;
  }
  return nullptr;
}

DumpSequence::DumpSequence(NetlinkSocket sock, std::vector<Request> requests)
    : sock_(std::move(sock)), requests_(std::move(requests)) {}

const nlmsghdr* DumpSequence::next() {
  for (;;) {
    if (!dump_) {
      if (at_ >= requests_.size()) return nullptr;
      dump_.emplace(sock_, requests_[at_++]);
      ++counters_.requests;
    }
    if (const nlmsghdr* m = dump_->next()) {
      ++counters_.messages;
      return m;
    }
    dump_.reset();
  }
}

}  // namespace netsql::kernel
