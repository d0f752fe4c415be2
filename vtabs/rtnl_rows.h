// What the rtnetlink tables share: one dump per requested address family
// on one socket in the query's namespace, each item paired with the name
// of its interface.
#pragma once

#include <string>
#include <vector>

#include "kernel/rtnl.h"
#include "vtabs/filters.h"
#include "vtabs/table.h"

namespace netsql::vt {

template <class T>
struct Named {
  T item;
  std::string interface;
};

// `dump(rtnl, family)` returns the items; `index(item)` their ifindex.
template <class T, class Dump, class Index>
void load_named(const Query& q, int family_column, std::vector<Named<T>>& rows, Dump dump, Index index) {
  auto fams = families(q, family_column);
  if (fams.empty()) return;
  kernel::NetlinkSocket rtnl = kernel::rtnl_socket(*q.netns);
  auto names = kernel::link_names(rtnl);
  for (uint8_t fam : fams)
    for (auto& item : dump(rtnl, fam)) {
      std::string name = kernel::link_name(names, index(item));
      rows.push_back({std::move(item), std::move(name)});
    }
}

}  // namespace netsql::vt
