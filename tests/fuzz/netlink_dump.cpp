// kernel::Dump, the loop every netlink table reads through: message lengths,
// sequence and port checks, NLMSG_DONE, NLMSG_ERROR and its extended-ACK
// text. The input reaches it as a real datagram: a second rtnetlink socket
// sends it (sequence numbers patched to the dump's) to the dump's socket,
// then an NLMSG_DONE, so Dump runs unchanged. Sending to another netlink
// socket needs CAP_NET_ADMIN; without it the target says so and stops.
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <vector>

#include "fuzz.h"
#include "kernel/netlink.h"

using namespace netsql::kernel;

namespace {

struct Pair {
  NetlinkSocket reader{NETLINK_ROUTE}, writer{NETLINK_ROUTE};

  Pair() {
    timeval limit{2, 0};  // a dump that misses its NLMSG_DONE fails instead of hanging
    ::setsockopt(reader.fd(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }
  // False if the kernel refused (no CAP_NET_ADMIN).
  bool send(const std::vector<uint8_t>& datagram) {
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    to.nl_pid = reader.port_id();
    return ::sendto(writer.fd(), datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(datagram.size());
  }
  // Drops what an earlier input left queued (a dump that failed midway).
  void drain() {
    char byte;
    while (::recv(reader.fd(), &byte, 1, MSG_DONTWAIT) >= 0) {
    }
  }
};

// Addresses each message whose header is in the datagram to the dump
// (sequence and port), except those whose sequence has the top bit set:
// they stay as they are, stale replies the dump must skip.
void address(std::vector<uint8_t>& d, uint32_t seq) {
  for (size_t at = 0; at + sizeof(nlmsghdr) <= d.size();) {
    nlmsghdr h;
    std::memcpy(&h, d.data() + at, sizeof h);
    if (!(h.nlmsg_seq & 0x80000000u)) {
      h.nlmsg_seq = seq;
      h.nlmsg_pid = 0;
      std::memcpy(d.data() + at, &h, sizeof h);
    }
    if (h.nlmsg_len < sizeof h) break;
    at += align4(h.nlmsg_len);
  }
}

// True if message `m` is a whole message of the datagram at or after `from`
// (4-aligned), which then moves past it.
bool within(const std::vector<uint8_t>& d, const nlmsghdr* m, size_t& from) {
  for (size_t at = from; at + m->nlmsg_len <= d.size(); at += 4)
    if (std::memcmp(d.data() + at, m, m->nlmsg_len) == 0) {
      from = align4(at + m->nlmsg_len);
      return true;
    }
  return false;
}

Pair& pair() {
  static Pair p;
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!pair().send(std::vector<uint8_t>(sizeof(nlmsghdr)))) {
    std::perror("fuzz_netlink_dump: cannot send to a netlink socket (needs CAP_NET_ADMIN); skipped");
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Pair& pair = ::pair();
  pair.drain();
  Request req(RTM_GETLINK, 0);  // no NLM_F_REQUEST: the kernel ignores it and answers nothing
  Dump dump(pair.reader, req);
  uint32_t seq;
  std::memcpy(&seq, req.bytes().data() + offsetof(nlmsghdr, nlmsg_seq), sizeof seq);

  std::vector<uint8_t> datagram(data, data + size);
  address(datagram, seq);
  std::vector<uint8_t> done(NLMSG_LENGTH(sizeof(int32_t)), 0);
  nlmsghdr h{static_cast<uint32_t>(done.size()), NLMSG_DONE, NLM_F_MULTI, seq, 0};
  std::memcpy(done.data(), &h, sizeof h);
  // The kernel refuses an empty datagram (ENODATA), so none ever arrives.
  FUZZ_CHECK((datagram.empty() || pair.send(datagram)) && pair.send(done));

  size_t from = 0;
  try {
    while (const nlmsghdr* m = dump.next()) {
      FUZZ_CHECK(m->nlmsg_seq == seq && m->nlmsg_len >= sizeof(nlmsghdr));
      FUZZ_CHECK(within(datagram, m, from));
    }
  } catch (const NetlinkError& e) {
    // The NLMSG_DONE was queued: a dump must not wait for more.
    FUZZ_CHECK(std::string_view(e.what()).rfind("netlink receive", 0) != 0);
  }
  return 0;
}
