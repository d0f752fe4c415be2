#include "kernel/links.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

namespace netsql::kernel {

std::unordered_map<uint32_t, std::string> link_names(NetlinkSocket& rtnl) {
  std::unordered_map<uint32_t, std::string> names;
  Request req(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  ifinfomsg ifi{};
  req.append(ifi);
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  req.add_attr(IFLA_EXT_MASK, &mask, sizeof mask);
  dump_consistent(
      rtnl, req,
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWLINK || m->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
        ifinfomsg hdr;
        std::memcpy(&hdr, NLMSG_DATA(m), sizeof hdr);
        AttrTable<IFLA_IFNAME + 1> attrs(payload_after(m, sizeof(ifinfomsg)));
        if (auto name = attrs.str(IFLA_IFNAME)) names[static_cast<uint32_t>(hdr.ifi_index)] = std::string(*name);
      },
      [&] { names.clear(); });
  return names;
}

}  // namespace netsql::kernel
