// netsql_stats: what the most recent scan of each sock_diag table in this
// thread asked the kernel for and what the kernel sent back (see
// vtabs/scan_stats.h): shows whether a WHERE clause was pushed down, and
// how many rows the kernel sent versus how many the query kept.
#include "vtabs/inet_sockets.h"
#include "vtabs/scan_stats.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

enum Col {
  TABLE_NAME, SCANS, REQUESTS, STATE_MASK, BYTECODE_COLUMNS, BYTECODE_BYTES, SQLITE_ONLY_COLUMNS, EXTENSIONS,
  KERNEL_ROWS, kCount
};

constexpr std::array<Column, kCount> kColumns{{
    {"table_name", Type::Text, "tcp_sockets or udp_sockets"},
    {"scans", Type::Integer, "scans of the table this thread has run (a join scans once per outer row); the other "
                             "columns describe the most recent one and are NULL before the first"},
    {"requests", Type::Integer, "sock_diag dump requests it sent: one per address family the query allows, 0 when "
                                "its constraints allow no socket"},
    {"state_mask", Type::Integer, "the state mask it sent (bit 1 << kernel state number; LISTEN is 1024)"},
    {"bytecode_columns", Type::Text, "columns its kernel bytecode filter checked, comma separated; '' for none"},
    {"bytecode_bytes", Type::Integer, "length of that bytecode program, bytes"},
    {"sqlite_only_columns", Type::Text, "constrained columns left out of the bytecode because their lists are too "
                                        "long to pay off in the kernel (over 341 ports, 204 IPv4 or 128 IPv6 "
                                        "addresses): only SQLite filtered them"},
    {"extensions", Type::Text, "sock_diag extensions it asked for, from the columns the query reads: tcp_info, "
                               "congestion, memory"},
    {"kernel_rows", Type::Integer, "sockets the kernel sent back, every one a row that SQLite then re-checked "
                                   "against the WHERE clause"},
}};

std::string names(uint8_t bits, std::initializer_list<std::pair<unsigned, std::string_view>> known) {
  std::string s;
  for (auto [bit, name] : known)
    if (bits & bit) s += std::string(s.empty() ? "" : ",") + std::string(name);
  return s;
}

std::string column_names(uint8_t conditions) {
  return names(conditions, {{kernel::kLocalPorts, "local_port"},
                            {kernel::kRemotePorts, "remote_port"},
                            {kernel::kLocalAddrs, "local_address"},
                            {kernel::kRemoteAddrs, "remote_address"}});
}

struct Row {
  ScannedTable table;
  SockDiagScan scan;
};

class StatsCursor final : public RowsCursor<Row> {
  void load(const Query&, std::vector<Row>& rows) override {
    for (ScannedTable t : kScannedTables) rows.push_back({t, last_scan(t)});
  }
  void column(const Row& r, int col, Cell& out) override {
    const SockDiagScan& s = r.scan;
    if (col == TABLE_NAME) return out.text(table_name(r.table));
    if (col == SCANS) return out.integer(static_cast<int64_t>(s.number));
    if (s.number == 0) return out.null();
    switch (col) {
      case REQUESTS: return out.integer(static_cast<int64_t>(s.received.requests));
      case STATE_MASK: return out.integer(s.state_mask);
      case BYTECODE_COLUMNS: return out.text(column_names(s.bytecode_held));
      case BYTECODE_BYTES: return out.integer(s.bytecode_bytes);
      case SQLITE_ONLY_COLUMNS: return out.text(column_names(s.left_out));
      case EXTENSIONS:
        return out.text(names(s.extensions, {{inet::kTcpInfo, "tcp_info"}, {inet::kCongestion, "congestion"},
                                             {inet::kMemory, "memory"}}));
      case KERNEL_ROWS: return out.integer(static_cast<int64_t>(s.received.messages));
      default: return out.null();
    }
  }
};

}  // namespace

const TableDef kNetsqlStats{
    "netsql_stats",
    "What the most recent scan of tcp_sockets and of udp_sockets in this thread asked the kernel for and got back: "
    "pushdown at work, rows sent by the kernel versus rows the query kept.",
    kColumns,
    2,
    [] { return std::unique_ptr<Cursor>(new StatsCursor); },
};

}  // namespace netsql::vt
