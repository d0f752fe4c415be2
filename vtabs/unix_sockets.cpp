// unix_sockets: every unix-domain socket of the namespace, from sock_diag
// (UNIX_DIAG), streamed; peer_inode pairs the two ends of a connection.
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include "kernel/sock_diag.h"
#include "kernel/unix_diag.h"
#include "vtabs/owners.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { PATH, TYPE, STATE, INODE, PEER_INODE, RECV_Q, SEND_Q, UID, kOwnerFirst, kCount = kOwnerFirst + 2 };

constexpr std::array<Column, kOwnerFirst> kUnixColumns{{
    {"path", Type::Text, "bound path; abstract names start with '@'; NULL when unbound"},
    {"type", Type::Text, "stream, dgram or seqpacket"},
    {"state", Type::Text, "LISTEN, ESTABLISHED (connected) or UNCONN", kPushIn, 0.3, "the kernel's state mask"},
    key({"inode", Type::Integer, "socket inode"}),
    {"peer_inode", Type::Integer, "inode of the connected peer socket; NULL when unconnected"},
    {"recv_q", Type::Integer, "bytes queued for reading (LISTEN: connections waiting to be accepted)"},
    {"send_q", Type::Integer, "bytes queued for sending (LISTEN: backlog limit)"},
    {"uid", Type::Integer, "owning user id (Linux 5.3+; NULL before)"},
}};
constexpr auto kColumns = concat(kUnixColumns, kOwnerColumns);

std::optional<uint32_t> state_mask(std::string_view name) {
  if (name == "LISTEN") return kernel::state_bit(kernel::kListen);
  if (name == "ESTABLISHED") return kernel::state_bit(kernel::kEstablished);
  if (name == "UNCONN") return kernel::state_bit(kernel::kClose);
  return std::nullopt;
}

std::string_view state_name(int s) {
  return s == kernel::kListen ? "LISTEN" : s == kernel::kEstablished ? "ESTABLISHED" : s == kernel::kClose ? "UNCONN"
                                                                                                            : "UNKNOWN";
}

class UnixCursor final : public Cursor {
 public:
  void filter(const Query& q) override {
    dumps_.reset();
    uint32_t mask = ~0u;
    if (const auto* v = q.values(STATE))
      mask = resolve_mask(*v, state_mask, [](std::string_view n) {
        return "invalid state '" + std::string(n) + "' (expected LISTEN, ESTABLISHED or UNCONN)";
      });
    if (mask == 0) return;
    owners_.prepare(q, kOwnerFirst);
    std::vector<kernel::Request> reqs;
    reqs.push_back(kernel::unix_diag_request(mask));
    dumps_.emplace(q.netns->netlink(NETLINK_SOCK_DIAG), std::move(reqs));
    next();
  }
  bool eof() const override { return !dumps_; }
  void next() override {
    while (const nlmsghdr* m = dumps_->next())
      if (auto s = kernel::parse_unix_sock(m)) {
        sock_ = std::move(*s);
        return;
      }
    dumps_.reset();
  }
  void column(int col, Cell& out) override {
    switch (col) {
      case PATH: return sock_.path ? out.text(*sock_.path) : out.null();
      case TYPE:
        return out.text(sock_.type == SOCK_STREAM ? "stream" : sock_.type == SOCK_DGRAM ? "dgram"
                        : sock_.type == SOCK_SEQPACKET ? "seqpacket" : "other");
      case STATE: return out.text(state_name(sock_.state));
      case INODE: return out.integer(static_cast<int64_t>(sock_.inode));
      case PEER_INODE: return sock_.peer && *sock_.peer ? out.integer(static_cast<int64_t>(*sock_.peer)) : out.null();
      case RECV_Q: return out.integer(sock_.rqueue);
      case SEND_Q: return out.integer(sock_.wqueue);
      case UID: return out.integer(sock_.uid);
      default: return owners_.column(col - kOwnerFirst, sock_.inode, out);
    }
  }

 private:
  std::optional<kernel::DumpSequence> dumps_;
  kernel::UnixSock sock_;
  Owners owners_;
};

}  // namespace

const TableDef kUnixSockets{
    "unix_sockets",
    "Unix-domain sockets of the network namespace (netstat -x), from netlink sock_diag.",
    kColumns,
    500,
    [] { return std::unique_ptr<Cursor>(new UnixCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
