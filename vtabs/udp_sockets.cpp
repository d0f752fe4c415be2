// udp_sockets: every UDP socket of the namespace, from sock_diag.
#include "vtabs/inet_sockets.h"
#include "vtabs/tables.h"

namespace netsql::vt {
namespace {

using namespace inet;

constexpr auto kColumns = concat(
    common_columns("ESTABLISHED when connected, UNCONN otherwise"),
    kMemoryColumns, kOwnerColumns);

constexpr uint32_t kConnected = kernel::state_bit(kernel::kEstablished);
constexpr uint32_t kUnconnected = kernel::state_bit(kernel::kClose);

class UdpCursor final : public InetCursor {
 public:
  UdpCursor() : InetCursor(IPPROTO_UDP, ScannedTable::Udp, kColumns, kCommonCount) {}

 private:
  uint32_t default_states() const override { return kConnected | kUnconnected; }
  std::optional<uint32_t> states_for(std::string_view n) const override {
    if (n == "ESTABLISHED") return kConnected;
    if (n == "UNCONN") return kUnconnected;
    return std::nullopt;
  }
  std::string invalid_state(std::string_view n) const override {
    return "invalid state '" + std::string(n) + "' (expected ESTABLISHED or UNCONN)";
  }
  std::string_view state_name(int s, uint32_t) const override { return s == kernel::kEstablished ? "ESTABLISHED" : "UNCONN"; }
  void protocol_column(int, Cell& out) override { out.null(); }
};

}  // namespace

const TableDef kUdpSockets{
    "udp_sockets",
    "UDP sockets (IPv4 and IPv6) of the network namespace, from netlink sock_diag.",
    kColumns,
    200,
    [] { return std::unique_ptr<Cursor>(new UdpCursor); },
    /* per_netns */ true,
};

}  // namespace netsql::vt
