// /proc/PID/cmdline: the arguments as shell words and as a JSON array
// (kernel::join_cmdline, kernel::cmdline_json, behind processes).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw = netsql::fuzz::text(data, size);
  std::string s, j;
  netsql::kernel::join_cmdline(raw, s);
  FUZZ_CHECK(s.find('\0') == std::string::npos);
  netsql::kernel::cmdline_json(raw, j);
  FUZZ_CHECK(j.size() >= 2 && j.front() == '[' && j.back() == ']');
  for (char c : j) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
  return 0;
}
