// hosts: the host names of /etc/hosts (what host_name() and netstat
// without -n read), streamed a line at a time. Never a network lookup.
#include "kernel/names.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { ADDRESS, NAME, ALIASES, kCount };

constexpr std::array<Column, kCount> kColumns{{
    {"address", Type::Text, "IPv4 or IPv6 address, canonical text (as the socket tables show addresses)"},
    {"name", Type::Text, "the address's first name (what host_name() returns)"},
    {"aliases", Type::Text, "other names, space-separated; NULL when none"},
}};

class HostsCursor final : public ReaderCursor<kernel::HostsReader> {
 public:
  HostsCursor() : ReaderCursor(kernel::kHostsPath) {}

 private:
  void column(const kernel::Host& h, int col, Cell& out) override {
    switch (col) {
      case ADDRESS: return out.text(h.address);
      case NAME: return out.text(h.name);
      case ALIASES: return out.text_or_null(h.aliases);
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kHosts{
    "hosts",
    "Host names from /etc/hosts, as netstat uses them without -n (files only, never a network lookup).",
    kColumns,
    20,
    [] { return std::unique_ptr<Cursor>(new HostsCursor); },
};

}  // namespace netsql::vt
