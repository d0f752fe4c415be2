// Netlink sockets and the dump loop. Part of the kernel layer: no SQLite here.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel/attrs.h"
#include "kernel/fd.h"

namespace netsql::kernel {

// A kernel refusal: errno plus, when the kernel sent an extended ACK, its text.
class NetlinkError : public std::runtime_error {
 public:
  NetlinkError(int err, const std::string& what) : std::runtime_error(what), err_(err) {}
  int error() const { return err_; }

 private:
  int err_;
};

// The kernel's NLMSG_ERROR answer to a request. `explanation` is its
// extended-ACK text, "" when it gave none.
class Refusal : public NetlinkError {
 public:
  Refusal(int err, const std::string& what, std::string explanation)
      : NetlinkError(err, what), explanation_(std::move(explanation)) {}
  const std::string& explanation() const { return explanation_; }

 private:
  std::string explanation_;
};

// Throws NetlinkError(errno) with "<what>: <strerror>".
[[noreturn]] void throw_errno(int err, const std::string& what);

// A connected netlink socket (close-on-exec, large receive buffer, extended
// ACKs on). Created in the calling thread's network namespace.
class NetlinkSocket {
 public:
  explicit NetlinkSocket(int protocol);

  int fd() const { return fd_.get(); }
  uint32_t port_id() const { return port_id_; }
  uint32_t next_seq() { return ++seq_; }

 private:
  Fd fd_;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
};

// Builds a request: an nlmsghdr followed by a fixed header and attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags);
  template <class T>
  void append(const T& header) { append_bytes(&header, sizeof header); }
  void append_bytes(const void* p, size_t n);
  // Throws NetlinkError(EMSGSIZE) if n exceeds kMaxAttrPayload.
  void add_attr(uint16_t type, const void* p, size_t n);
  // nla_len is a u16 that counts the attribute's 4-byte header too.
  static constexpr size_t kMaxAttrPayload = 0xffff - NLA_HDRLEN;
  std::vector<uint8_t>& bytes() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

// One streaming dump: sends the request, then hands out each reply message in
// turn. Validates lengths, sequence and port id; turns NLMSG_ERROR and an
// error in NLMSG_DONE into a Refusal. Buffer sized by MSG_PEEK|MSG_TRUNC.
// A request (NLM_F_REQUEST) with neither NLM_F_DUMP nor NLM_F_ACK, a GET of
// one object, is answered by exactly one message, the object or an
// NLMSG_ERROR: that message ends the exchange, with no ACK to wait for.
class Dump {
 public:
  Dump(NetlinkSocket& sock, Request& req);
  Dump(const Dump&) = delete;
  Dump& operator=(const Dump&) = delete;

  // The next message, or nullptr once the dump is done.
  const nlmsghdr* next();
  // True if the kernel flagged the dump as inconsistent (NLM_F_DUMP_INTR):
  // the tables changed under it; the caller may want to start over.
  bool interrupted() const { return interrupted_; }

 private:
  bool fill();
  NetlinkSocket& sock_;
  uint32_t seq_;
  // Not zeroed (pages untouched by a reply cost nothing), never shorter
  // than kDumpBuffer: the kernel sizes a dump's batches by the largest
  // buffer a reader has offered (32 KiB at most), so a smaller one would
  // mean ~8 times the receives.
  static constexpr size_t kDumpBuffer = 32768;
  std::unique_ptr<uint8_t[]> buf_;
  size_t size_ = 0;
  size_t pos_ = 0, len_ = 0;
  bool done_ = false;
  bool single_ = false;  // one reply ends it (see above)
  bool interrupted_ = false;
};

// What a DumpSequence has done so far.
struct DumpCounters {
  uint64_t requests = 0;  // dump requests sent
  uint64_t messages = 0;  // reply messages handed out (NLMSG_DONE and ACKs not counted)
};

// Several dumps run one after another on a socket of their own, their
// messages handed out in order: what a streaming table scan needs. Dropping
// it midway closes the socket, which ends any dump still running.
class DumpSequence {
 public:
  DumpSequence(NetlinkSocket sock, std::vector<Request> requests);
  // The next message of the current dump, moving on to the next request
  // when one is done; nullptr after the last.
  const nlmsghdr* next();
  const DumpCounters& counters() const { return counters_; }

 private:
  NetlinkSocket sock_;
  std::vector<Request> requests_;
  size_t at_ = 0;
  std::optional<Dump> dump_;
  DumpCounters counters_;
};

// Runs a dump to completion, calling on_message for each message. If the
// kernel flags it NLM_F_DUMP_INTR, calls on_restart and runs it again (a
// few times at most) so that the caller never sees a torn snapshot.
template <class OnMessage, class OnRestart>
void dump_consistent(NetlinkSocket& sock, Request& req, OnMessage&& on_message, OnRestart&& on_restart) {
  for (int attempt = 0;; ++attempt) {
    Dump d(sock, req);
    while (const nlmsghdr* m = d.next()) on_message(m);
    if (!d.interrupted()) return;
    if (attempt == 4) throw NetlinkError(EAGAIN, "netlink dump kept changing under us (NLM_F_DUMP_INTR)");
    on_restart();
  }
}

// The payload of a message past its fixed header T; empty if too short.
Bytes payload_after(const nlmsghdr* m, size_t fixed);

}  // namespace netsql::kernel
