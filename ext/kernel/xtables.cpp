// Counts the legacy x_tables (iptables-legacy) tables of a namespace
// through their getsockopt interface, on a thread inside the namespace
// (Netns::run): /proc/thread-self/net and raw sockets belong to the
// thread's namespace. nftables does not show these rules.
#include <netinet/in.h>  // before the linux/ headers, which would define its structs again
#include <sys/socket.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <bit>
#include <cstring>

#include "kernel/fd.h"
#include "kernel/netns.h"
#include "kernel/nft.h"
#include "kernel/procfs.h"

namespace netsql::kernel {
namespace {

// Entries of x_tables table `name` beyond its built-in chains' policies
// and the closing error entry; nullopt when the kernel would not say.
template <class Info>
std::optional<int64_t> xt_entries(int family, int level, int option, const std::string& name) {
  Info info{};
  if (name.size() >= sizeof info.name) return std::nullopt;
  std::memcpy(info.name, name.data(), name.size());
  Fd fd(::socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!fd) return std::nullopt;
  socklen_t len = sizeof info;
  if (::getsockopt(fd.get(), level, option, &info, &len) != 0 || len != sizeof info) return std::nullopt;
  int64_t fixed = std::popcount(info.valid_hooks) + 1;
  return static_cast<int64_t>(info.num_entries) - fixed;
}

}  // namespace

std::vector<XtTable> legacy_tables(const Netns& ns) {
  return ns.run([] {
    std::vector<XtTable> out;
    for (const char* family : {"ip", "ip6"}) {
      bool v4 = family[2] == 0;
      auto names = read_file(std::string("/proc/thread-self/net/") + (v4 ? "ip_tables_names" : "ip6_tables_names"));
      if (!names) continue;  // x_tables not loaded
      size_t at = 0;
      while (at < names->size()) {
        size_t nl = names->find('\n', at);
        std::string name = names->substr(at, nl - at);
        at = nl == std::string::npos ? names->size() : nl + 1;
        if (name.empty()) continue;
        auto entries = v4 ? xt_entries<ipt_getinfo>(AF_INET, IPPROTO_IP, IPT_SO_GET_INFO, name)
                          : xt_entries<ip6t_getinfo>(AF_INET6, IPPROTO_IPV6, IP6T_SO_GET_INFO, name);
        out.push_back(XtTable{family, std::move(name), entries});
      }
    }
    return out;
  });
}

}  // namespace netsql::kernel
