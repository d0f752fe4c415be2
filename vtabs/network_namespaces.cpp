// network_namespaces: every network namespace on the host, bound under
// /run/netns or held by a process. Join its path with any per-namespace
// table's netns column to query them all at once.
#include "kernel/netns.h"
#include "vtabs/owners.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col { INODE, NAME, PATH, PID, PROCESS, PROCESSES, IS_CURRENT, kCount };

constexpr std::array<Column, kCount> kColumns{{
    {"inode", Type::Integer, "namespace inode (as in /proc/PID/ns/net -> net:[inode])"},
    {"name", Type::Text, "name under /run/netns (ip netns); NULL when not bound there"},
    {"path", Type::Text, "a path that opens it: /run/netns/NAME, else /proc/PID/ns/net of its lowest pid"},
    {"pid", Type::Integer, "lowest pid inside; NULL when no visible process is in it"},
    {"process", Type::Text, "name (comm) of that process"},
    {"processes", Type::Integer, "number of visible processes inside"},
    {"is_current", Type::Integer, "1 for the namespace of the thread running the query, else 0"},
}};

struct Row {
  kernel::NetnsInfo info;
  bool current;
};

class NamespacesCursor final : public RowsCursor<Row> {
  void load(const Query&, std::vector<Row>& rows) override {
    uint64_t current = kernel::current_netns_inode();
    for (auto& n : kernel::list_network_namespaces()) {
      bool cur = n.inode == current;
      rows.push_back({std::move(n), cur});
    }
    names_.clear();
  }
  void column(const Row& r, int col, Cell& out) override {
    const kernel::NetnsInfo& n = r.info;
    switch (col) {
      case INODE: return out.integer(static_cast<int64_t>(n.inode));
      case NAME: return out.text_or_null(n.name);
      case PATH: return out.text(n.path);
      case PID: return n.pid ? out.integer(n.pid) : out.null();
      case PROCESS: return n.pid ? out.maybe_text(cached_process_name(names_, n.pid)) : out.null();
      case PROCESSES: return out.integer(n.processes);
      case IS_CURRENT: return out.integer(r.current ? 1 : 0);
      default: return out.null();
    }
  }
  std::unordered_map<int, std::optional<std::string>> names_;
};

}  // namespace

const TableDef kNetworkNamespaces{
    "network_namespaces",
    "Network namespaces of the host: those bound under /run/netns and those any visible process is in.",
    kColumns,
    10,
    [] { return std::unique_ptr<Cursor>(new NamespacesCursor); },
};

}  // namespace netsql::vt
