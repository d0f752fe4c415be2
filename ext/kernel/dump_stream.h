// A streaming dump that stays consistent where that costs bounded memory.
// Part of the kernel layer: no SQLite here.
//
// The kernel flags a dump NLM_F_DUMP_INTR when the table it walks changed
// between two batches (link and address dumps do; this kernel's route
// dumps never do: IPv4 resumes by prefix, IPv6 restarts its tree walk).
// The first kHoldBytes of each dump's messages are held back: a dump
// flagged while nothing of it has been handed out is restarted, so every
// dump that fits in the window (thousands of routes or addresses, hundreds
// of links) is as consistent as a collected one. A longer dump streams on
// past the window; if the kernel flags it after that, the dump is finished
// (rows of the changed part may be missing or repeated) and the change is
// reported through take_inconsistency().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "kernel/netlink.h"

namespace netsql::kernel {

class DumpStream {
 public:
  static constexpr size_t kHoldBytes = 1 << 20;
  static constexpr int kMaxRestarts = 8;

  // The requests run one after another on `sock`, each with its own window.
  // A request the kernel refuses with one of `empty_on` (ENOENT: no such
  // table; ENODEV: no such link) has no messages rather than failing.
  DumpStream(NetlinkSocket sock, std::vector<Request> requests, std::vector<int> empty_on = {},
             size_t hold_bytes = kHoldBytes);
  DumpStream(const DumpStream&) = delete;
  DumpStream& operator=(const DumpStream&) = delete;

  // The next message, nullptr after the last dump is done. Valid until the
  // next call.
  const nlmsghdr* next();

  // Restarts so far (dumps flagged while still held back).
  int restarts() const { return restarts_; }
  // True once for each dump the kernel flagged after some of its messages
  // were handed out (or that kept changing through every restart).
  bool take_inconsistency() {
    bool t = inconsistent_;
    inconsistent_ = false;
    return t;
  }

 private:
  // Runs the current request into the window until it is done or the
  // window is full; restarts it when the kernel flags it meanwhile.
  void hold();
  // dump_->next(), with the refusals in empty_on_ ending the dump.
  const nlmsghdr* pull();

  NetlinkSocket sock_;
  std::vector<Request> requests_;
  std::vector<int> empty_on_;
  size_t hold_bytes_;
  size_t at_ = 0;
  std::optional<Dump> dump_;
  std::vector<uint8_t> held_;  // whole messages, each padded to 4 bytes
  size_t held_pos_ = 0;
  bool streaming_ = false;  // past the window: messages come straight from dump_
  bool flagged_ = false;    // the current dump's inconsistency is reported
  int restarts_ = 0;
  bool inconsistent_ = false;
};

}  // namespace netsql::kernel
