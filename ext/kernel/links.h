// Interface index -> name, from one RTM_GETLINK dump (the namespace of the
// socket it is given, unlike if_indextoname which asks the caller's).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "kernel/netlink.h"

namespace netsql::kernel {

std::unordered_map<uint32_t, std::string> link_names(NetlinkSocket& rtnl);

}  // namespace netsql::kernel
