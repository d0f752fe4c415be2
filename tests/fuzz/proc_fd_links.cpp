// Targets of /proc/PID/fd/* and /proc/PID/ns/net links, one per line:
// "socket:[12345]", "net:[4026531840]" (kernel::bracket_inode, behind
// socket owners, processes and network_namespaces).
#include "fuzz.h"
#include "kernel/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = netsql::fuzz::text(data, size);
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view link = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    for (std::string_view kind : {"socket", "net"})
      if (netsql::kernel::bracket_inode(link, kind)) FUZZ_CHECK(link.substr(0, kind.size()) == kind && link.back() == ']');
  }
  return 0;
}
