// netsql_owner_source(): which path found socket owners (the pid and
// process columns, socket_owners) — 'bpf' or 'proc' — for the most recent
// owner scan in this process, NULL before the first. With an argument
// ('auto', 'proc' or 'bpf') it sets the path for the whole process and
// returns it (see kernel/owners_bpf.h). Registered once per connection,
// which also holds the loaded BPF program until the connection closes.
#include <string>

#include "kernel/owners_bpf.h"
#include "vtabs/registry.h"
#include "vtabs/sqlite.h"

namespace netsql::vt {
namespace {

void owner_source(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto text = [&](std::string_view s) {
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  };
  if (argc > 1) return sqlite3_result_error(ctx, "netsql_owner_source: takes at most one argument", -1);
  if (argc == 1) {
    const auto* v = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    auto mode = kernel::owner_mode_named(v && sqlite3_value_type(argv[0]) == SQLITE_TEXT ? v : "");
    if (!mode) return sqlite3_result_error(ctx, "netsql_owner_source: the path must be 'auto', 'proc' or 'bpf'", -1);
    kernel::set_owner_mode(*mode);
    return text(kernel::owner_mode_name(*mode));
  }
  kernel::OwnerSource s = kernel::last_owner_source();
  if (s == kernel::OwnerSource::None) return sqlite3_result_null(ctx);
  text(kernel::owner_source_name(s));
}

void release(void*) { kernel::release_bpf_owners(); }

}  // namespace

int register_owner_source(sqlite3* db) {
  kernel::hold_bpf_owners();  // released by `release` when the connection closes (or registering fails)
  return sqlite3_create_function_v2(db, "netsql_owner_source", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY, nullptr,
                                    owner_source, nullptr, nullptr, release);
}

}  // namespace netsql::vt
