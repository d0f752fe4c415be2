// Netlink attribute streams (kernel::AttrWalker, kernel::AttrTable): every
// decoder above parses its attributes through these.
#include <array>

#include "fuzz.h"

using namespace netsql::kernel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  constexpr size_t N = 16;
  std::array<Bytes, N> last{};  // later duplicates win, as in nla_parse
  AttrWalker w(in);
  size_t count = 0;
  while (auto a = w.next()) {
    FUZZ_CHECK(a->data.data() >= data && a->data.data() + a->data.size() <= data + size);
    FUZZ_CHECK((a->type & (NLA_F_NESTED | NLA_F_NET_BYTEORDER)) == 0);  // flag bits stripped
    if (a->type < N) last[a->type] = a->data;
    FUZZ_CHECK(++count <= size / 4);  // each attribute takes at least its header
  }
  AttrTable<N> t(in);
  FUZZ_CHECK(t.malformed() == w.malformed());
  for (size_t type = 0; type < N; ++type) {
    FUZZ_CHECK(t.raw(type).data() == last[type].data() && t.raw(type).size() == last[type].size());
    FUZZ_CHECK(t.get<uint64_t>(type).has_value() == (last[type].data() && last[type].size() >= 8));
    if (auto s = t.str(type)) FUZZ_CHECK(s->size() <= last[type].size());
  }
  FUZZ_CHECK(!t.has(N) && !t.raw(N + 100).data());
  return 0;
}
