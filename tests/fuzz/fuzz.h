// What the fuzz targets share: a check that fails the run, the input as
// text, and the input as one netlink message with the guarantees a parser
// gets from kernel::Dump. Each target is one file defining
// LLVMFuzzerTestOneInput over one parser of ext/kernel/.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "kernel/attrs.h"

// A promise of the parser's header that the input broke: libFuzzer reports
// it as a crash and saves the input.
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace netsql::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input as one message of type `type`, as kernel::Dump hands it out:
// nlmsg_len at least a header and no more than the bytes there are (an
// input whose nlmsg_len is out of range is cut to its own size). The message
// lives in a heap block of exactly nlmsg_len bytes so that AddressSanitizer
// reports any read past it. Null when the input is shorter than a header.
class Message {
 public:
  Message(const uint8_t* data, size_t size, uint16_t type) {
    if (size < sizeof(nlmsghdr)) return;
    nlmsghdr h;
    std::memcpy(&h, data, sizeof h);
    size_t len = h.nlmsg_len >= sizeof h && h.nlmsg_len <= size ? h.nlmsg_len : size;
    bytes_.reset(new uint8_t[len]);
    std::memcpy(bytes_.get(), data, len);
    h.nlmsg_len = static_cast<uint32_t>(len);
    h.nlmsg_type = type;
    std::memcpy(bytes_.get(), &h, sizeof h);
  }
  const nlmsghdr* get() const { return reinterpret_cast<const nlmsghdr*>(bytes_.get()); }
  explicit operator bool() const { return bytes_ != nullptr; }
  // True if `b` (an attribute payload, say) lies within the message.
  bool holds(kernel::Bytes b) const {
    auto* p = bytes_.get();
    return !b.data() || (b.data() >= p && b.data() + b.size() <= p + get()->nlmsg_len);
  }

 private:
  std::unique_ptr<uint8_t[]> bytes_;
};

}  // namespace netsql::fuzz
