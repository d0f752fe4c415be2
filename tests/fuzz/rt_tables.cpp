// /etc/iproute2/rt_tables and rt_tables.d/*.conf: "id name" lines
// (kernel::parse_rt_tables, behind routes.table_name).
#include "fuzz.h"
#include "kernel/rtnl_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const auto& [id, name] : netsql::kernel::parse_rt_tables(netsql::fuzz::text(data, size)))
    FUZZ_CHECK(!name.empty() && name.find_first_of(" \t\r\n#") == std::string::npos);
  return 0;
}
