// The SQL function in_subnet(address, prefix): whether an address text lies
// in a CIDR block, as the kernel's sock_diag prefix match decides it. On a
// socket table's address column in WHERE it also becomes that kernel
// filter (Column::function, vtabs/inet_sockets.cpp).
#include <new>
#include <optional>
#include <string>

#include "kernel/cidr.h"
#include "vtabs/filters.h"
#include "vtabs/registry.h"
#include "vtabs/sqlite.h"

namespace netsql::vt {

namespace {

std::string_view text_of(sqlite3_value* v) {
  const auto* t = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return t ? std::string_view(t, static_cast<size_t>(sqlite3_value_bytes(v))) : std::string_view{};
}

// 1 if argv[0] is an address in the prefix argv[1], 0 if it is not (or is
// no address at all), NULL if either is NULL; a malformed prefix is an
// error. The parsed prefix is kept with the statement while the argument
// stays the same constant, so a scan parses it once.
void in_subnet(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
    return sqlite3_result_null(ctx);
  try {
    std::optional<kernel::Prefix> parsed;
    const auto* prefix = static_cast<const kernel::Prefix*>(sqlite3_get_auxdata(ctx, 1));
    if (!prefix) {
      if (sqlite3_value_type(argv[1]) == SQLITE_TEXT) parsed = kernel::parse_prefix(text_of(argv[1]));
      if (!parsed) return sqlite3_result_error(ctx, prefix_error(text_of(argv[1])).c_str(), -1);
      prefix = &*parsed;  // and kept for the next row, unless SQLite has no memory for it
      sqlite3_set_auxdata(ctx, 1, new kernel::Prefix(*parsed), [](void* p) { delete static_cast<kernel::Prefix*>(p); });
    }
    auto addr = sqlite3_value_type(argv[0]) == SQLITE_TEXT ? kernel::parse_host(text_of(argv[0])) : std::nullopt;
    sqlite3_result_int(ctx, addr && kernel::prefix_contains(*prefix, *addr) ? 1 : 0);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  }
}

}  // namespace

SqlFunction column_function(std::string_view name) { return name == "in_subnet" ? in_subnet : nullptr; }

int register_cidr_functions(sqlite3* db) {
  return sqlite3_create_function_v2(db, "in_subnet", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                    in_subnet, nullptr, nullptr, nullptr);
}

}  // namespace netsql::vt
