#include "kernel/dump_stream.h"

#include <algorithm>

namespace netsql::kernel {

DumpStream::DumpStream(NetlinkSocket sock, std::vector<Request> requests, std::vector<int> empty_on, size_t hold_bytes)
    : sock_(std::move(sock)), requests_(std::move(requests)), empty_on_(std::move(empty_on)), hold_bytes_(hold_bytes) {}

const nlmsghdr* DumpStream::pull() {
  try {
    return dump_->next();
  } catch (const Refusal& e) {
    if (std::find(empty_on_.begin(), empty_on_.end(), e.error()) == empty_on_.end()) throw;
    return nullptr;  // Dump::next() marked itself done
  }
}

void DumpStream::hold() {
  Request& req = requests_[at_++];
  held_.clear();
  held_pos_ = 0;
  streaming_ = false;
  flagged_ = false;
  dump_.emplace(sock_, req);
  for (int restarts = 0;;) {
    const nlmsghdr* m = pull();
    if (dump_->interrupted() && restarts < kMaxRestarts) {
      if (m)
        while (pull()) {
        }  // drain it: the socket takes one dump at a time
      ++restarts;
      ++restarts_;
      held_.clear();
      dump_.emplace(sock_, req);
      continue;
    }
    if (!m) break;
    const auto* bytes = reinterpret_cast<const uint8_t*>(m);
    held_.insert(held_.end(), bytes, bytes + m->nlmsg_len);
    held_.resize(align4(held_.size()));
    if (held_.size() >= hold_bytes_) {
      streaming_ = true;
      break;
    }
  }
  if (dump_->interrupted()) flagged_ = inconsistent_ = true;  // changed through every restart
  if (!streaming_) dump_.reset();
}

const nlmsghdr* DumpStream::next() {
  for (;;) {
    if (held_pos_ < held_.size()) {
      const auto* m = reinterpret_cast<const nlmsghdr*>(held_.data() + held_pos_);
      held_pos_ += align4(m->nlmsg_len);
      return m;
    }
    if (streaming_) {
      const nlmsghdr* m = pull();
      if (!flagged_ && dump_->interrupted()) flagged_ = inconsistent_ = true;
      if (m) return m;
      dump_.reset();
      streaming_ = false;
    }
    if (at_ >= requests_.size()) return nullptr;
    hold();
  }
}

}  // namespace netsql::kernel
