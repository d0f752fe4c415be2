// Netlink attribute (struct nlattr / struct rtattr: same layout) parsing with
// length validation. Nothing is ever read past the bytes handed in: a
// malformed or truncated attribute stops the walk and marks the table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace netsql::kernel {

using Bytes = std::span<const uint8_t>;

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

// One attribute: its type (flag bits stripped) and payload.
struct Attr {
  uint16_t type;
  Bytes data;
};

// Iterates the attributes packed in `bytes`. Stops at the first attribute
// whose header is short or whose length runs past the end; `malformed()`
// then tells that the rest was dropped.
class AttrWalker {
 public:
  explicit AttrWalker(Bytes bytes) : rest_(bytes) {}
  std::optional<Attr> next();
  bool malformed() const { return malformed_; }

 private:
  Bytes rest_;
  bool malformed_ = false;
};

// Attributes indexed by type, for types below N. Later duplicates win, as in
// the kernel's own nla_parse. Typed getters check the payload length.
template <size_t N>
class AttrTable {
 public:
  AttrTable() = default;
  explicit AttrTable(Bytes bytes) { parse(bytes); }

  void parse(Bytes bytes) {
    attrs_.fill(Bytes{});
    AttrWalker w(bytes);
    while (auto a = w.next())
      if (a->type < N) attrs_[a->type] = a->data;
    malformed_ = w.malformed();
  }

  bool has(size_t type) const { return type < N && attrs_[type].data() != nullptr; }
  Bytes raw(size_t type) const { return type < N ? attrs_[type] : Bytes{}; }
  bool malformed() const { return malformed_; }

  // A fixed-size scalar or struct; nullopt when absent or shorter than T.
  template <class T>
  std::optional<T> get(size_t type) const {
    Bytes b = raw(type);
    if (!b.data() || b.size() < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, b.data(), sizeof(T));
    return v;
  }

  // A string attribute: up to the first NUL inside the payload.
  std::optional<std::string_view> str(size_t type) const {
    Bytes b = raw(type);
    if (!b.data()) return std::nullopt;
    const char* p = reinterpret_cast<const char*>(b.data());
    return std::string_view(p, strnlen(p, b.size()));
  }

 private:
  std::array<Bytes, N> attrs_{};
  bool malformed_ = false;
};

// Copies up to sizeof(T) bytes of `b` into a zeroed T and reports how many
// bytes the kernel provided, so callers can tell which fields exist (kernel
// structs such as tcp_info grow over time and older kernels send less).
template <class T>
struct Partial {
  T value{};
  size_t size = 0;
  // True when the kernel sent every byte up to `end` (offsetof + sizeof).
  bool has(size_t end) const { return end <= size; }
};

template <class T>
Partial<T> copy_partial(Bytes b) {
  Partial<T> p;
  p.size = b.size() < sizeof(T) ? b.size() : sizeof(T);
  if (p.size) std::memcpy(&p.value, b.data(), p.size);
  return p;
}

}  // namespace netsql::kernel
