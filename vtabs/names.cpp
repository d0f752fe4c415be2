// The SQL functions service_name(port, proto), host_name(address) and
// protocol_name(number), user_name(uid): the names netstat prints without
// -n, from /etc/services, /etc/hosts, /etc/protocols and /etc/passwd
// (read once per connection, on first use; never a network lookup).
#include <new>
#include <optional>

#include "kernel/names.h"
#include "vtabs/osquery_compat.h"
#include "vtabs/registry.h"
#include "vtabs/sqlite.h"

namespace netsql::vt {

namespace {

// Each function owns its lookup (a function may be replaced, and so
// destroyed, on its own), loaded when it is first called.
template <class Lookup>
struct Lazy {
  std::optional<Lookup> lookup;
  const Lookup& get() {
    if (!lookup) lookup = Lookup::load();
    return *lookup;
  }
};

template <class Lookup>
const Lookup* lookup_of(sqlite3_context* ctx) {
  return &static_cast<Lazy<Lookup>*>(sqlite3_user_data(ctx))->get();
}

void result_name(sqlite3_context* ctx, const std::string* name, sqlite3_value* otherwise) {
  if (name) sqlite3_result_text64(ctx, name->data(), name->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  else sqlite3_result_value(ctx, otherwise);
}

// The number a name is looked up for: an integer, or text that reads as
// one ('80' from a CSV import). Anything else ('', 'nobody', 0.9) has no
// name and comes back unchanged, never as the name of 0.
std::optional<int64_t> number_of(sqlite3_value* v) {
  if (sqlite3_value_numeric_type(v) != SQLITE_INTEGER) return std::nullopt;
  return sqlite3_value_int64(v);
}

void service_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
    return sqlite3_result_value(ctx, argv[0]);
  try {
    const auto* proto = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
    const auto& names = *lookup_of<kernel::ServiceNames>(ctx);
    const auto port = number_of(argv[0]);
    result_name(ctx, proto && port ? names.find(*port, proto) : nullptr, argv[0]);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

void host_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  try {
    const auto* address = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    result_name(ctx, address ? lookup_of<kernel::HostNames>(ctx)->find(address) : nullptr, argv[0]);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

void protocol_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  try {
    const auto number = number_of(argv[0]);
    result_name(ctx, number ? lookup_of<kernel::ProtocolNames>(ctx)->find(*number) : nullptr, argv[0]);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

void user_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  try {
    const auto number = number_of(argv[0]);
    result_name(ctx, number ? lookup_of<kernel::UserNames>(ctx)->find(*number) : nullptr, argv[0]);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

template <class Lookup>
int create(sqlite3* db, const char* name, int args, void (*fn)(sqlite3_context*, int, sqlite3_value**)) {
  auto* data = new (std::nothrow) Lazy<Lookup>;
  if (!data) return SQLITE_NOMEM;
  // On failure SQLite calls the destructor itself.
  return sqlite3_create_function_v2(db, name, args, SQLITE_UTF8, data, fn, nullptr, nullptr,
                                    [](void* p) { delete static_cast<Lazy<Lookup>*>(p); });
}

}  // namespace

std::span<const FunctionDoc> all_functions() {
  static constexpr FunctionDoc kAll[] = {
      {"service_name(port, protocol)",
       "the name /etc/services gives the port for the protocol ('tcp', 'udp', ...), as netstat shows it without -n; "
       "the port unchanged when the file names none or it is no integer"},
      {"host_name(address)",
       "the first name /etc/hosts gives the address (IPv4 or IPv6, any form inet_pton takes), as netstat shows it "
       "without -n; the address unchanged when the file names none. Never a DNS lookup"},
      {"protocol_name(number)",
       "the name /etc/protocols gives the IP protocol number (1 icmp, 58 ipv6-icmp), as netstat shows a raw "
       "socket's protocol without -n; the number unchanged when the file names none or it is no integer"},
      {"user_name(uid)",
       "the name /etc/passwd gives the user id, as netstat -e shows a socket's owner without -n; the uid unchanged "
       "when the file names none or it is no integer. Never an NSS lookup"},
      {"in_subnet(address, prefix)",
       "1 if the address text (IPv4 or IPv6) lies in the prefix ('10.0.0.0/8', 'fd00::/8'; a bare address is all "
       "its bits; host bits past the length are ignored), else 0 (also for text that is no address); NULL if "
       "either is NULL; a malformed prefix is an error. An IPv4 prefix also matches IPv4-mapped IPv6 addresses "
       "(::ffff:10.1.2.3), an IPv6 prefix never an IPv4 address, as the kernel's filter decides. As a WHERE term "
       "on a socket table's address column (in_subnet(remote_address, '10.0.0.0/8'); the column must come first) "
       "it runs in the kernel's bytecode filter"},
      {"netsql_osquery_compat()",
       "creates TEMP views with osquery's table names and columns over netsql's tables (listening_ports, "
       "process_open_sockets, arp_cache, routes; see the README's osquery section) on this connection, and returns "
       "their names. A view named like a netsql table (routes) hides it; main.routes still reads the table"},
  };
  return kAll;
}

int register_functions(sqlite3* db, char** err) {
  int rc = create<kernel::ServiceNames>(db, "service_name", 2, service_name);
  if (rc == SQLITE_OK) rc = create<kernel::HostNames>(db, "host_name", 1, host_name);
  if (rc == SQLITE_OK) rc = create<kernel::ProtocolNames>(db, "protocol_name", 1, protocol_name);
  if (rc == SQLITE_OK) rc = create<kernel::UserNames>(db, "user_name", 1, user_name);
  if (rc == SQLITE_OK) rc = register_cidr_functions(db);
  if (rc == SQLITE_OK) rc = register_osquery_compat(db);
  if (rc != SQLITE_OK && err) *err = sqlite3_mprintf("netsql: cannot register functions: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace netsql::vt
