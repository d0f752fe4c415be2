// services: the port names of /etc/services (what service_name() and
// netstat without -n read), streamed a line at a time. Never a network
// lookup.
#include "kernel/names.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { NAME, PORT, PROTOCOL, ALIASES, kCount };

constexpr std::array<Column, kCount> kColumns{{
    {"name", Type::Text, "service name, e.g. ssh"},
    {"port", Type::Integer, "port number"},
    {"protocol", Type::Text, "tcp, udp, sctp, ..."},
    {"aliases", Type::Text, "other names, space-separated; NULL when none"},
}};

class ServicesCursor final : public ReaderCursor<kernel::ServicesReader> {
 public:
  ServicesCursor() : ReaderCursor(kernel::kServicesPath) {}

 private:
  void column(const kernel::Service& s, int col, Cell& out) override {
    switch (col) {
      case NAME: return out.text(s.name);
      case PORT: return out.integer(s.port);
      case PROTOCOL: return out.text(s.protocol);
      case ALIASES: return out.text_or_null(s.aliases);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kServices{
    "services",
    "Port names from /etc/services, as netstat uses them without -n (files only, never a network lookup).",
    kColumns,
    500,
    [] { return std::unique_ptr<Cursor>(new ServicesCursor); },
};

}  // namespace netsql::vt
