// What the rtnetlink tables share: a cursor that streams its dumps from
// one rtnetlink socket in the query's namespace, decoding each reply in
// place as SQLite steps (memory stays flat however many routes there
// are), and names interfaces through a per-statement cache.
#pragma once

#include <net/if.h>

#include <climits>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel/dump_stream.h"
#include "kernel/rtnl.h"
#include "vtabs/table.h"

namespace netsql::vt {

class RtnlCursor : public Cursor {
 public:
  explicit RtnlCursor(std::string_view table) : table_(table) {}

  void filter(const Query& q) final {
    stream_.reset();  // a scan that stopped early: closing its socket ends its dump
    links_.emplace(*q.netns);
    std::vector<kernel::Request> reqs = requests(q);
    if (reqs.empty()) return;  // no row can match: ask the kernel nothing
    stream_.emplace(kernel::rtnl_socket(*q.netns), std::move(reqs), empty_on());
    advance();
  }
  bool eof() const final { return !stream_; }
  void next() final {
    if (!next_in_message()) advance();
  }

 protected:
  // The dump requests for `q`, run in order; none when no row can match.
  virtual std::vector<kernel::Request> requests(const Query& q) = 0;
  // Refusals that mean "nothing to show" for those requests.
  virtual std::vector<int> empty_on() const { return {}; }
  // Decodes `m` as the current message; false to skip it (another type,
  // or rows the pushed constraints exclude).
  virtual bool accept(const nlmsghdr* m) = 0;
  // Moves to the next row of the current message; false when it has no more.
  virtual bool next_in_message() { return false; }

  const std::string& link_name(int index) { return links_->name(index); }

  // The request for the links a link table's query names: one link when an
  // `index_cols` or `name_col` value is pushed (the kernel looks it up),
  // else the whole dump; none when no link can have the value (an index
  // outside 1..INT32_MAX, a name empty or longer than IFNAMSIZ allows).
  static std::vector<kernel::Request> link_requests(const Query& q, std::initializer_list<int> index_cols,
                                                    int name_col, bool stats) {
    int index = 0;
    std::string name;
    for (int col : index_cols)
      if (const auto* v = q.values(col)) {
        auto i = v->empty() ? std::nullopt : (*v)[0].as_integer();
        if (!i || *i <= 0 || *i > INT32_MAX) return {};
        index = static_cast<int>(*i);
      }
    if (const auto* v = q.values(name_col)) {
      const std::string* t = v->empty() ? nullptr : (*v)[0].as_text();
      if (!t || t->empty() || t->size() >= IFNAMSIZ) return {};
      name = *t;
    }
    std::vector<kernel::Request> reqs;
    reqs.push_back(kernel::link_request(index, name, stats));
    return reqs;
  }

 private:
  void advance() {
    while (const nlmsghdr* m = stream_->next()) {
      report_inconsistency();
      if (accept(m)) return;
    }
    report_inconsistency();
    stream_.reset();
  }
  void report_inconsistency() {
    if (stream_->take_inconsistency())
      warn(std::string(table_) +
           ": the kernel's table changed while its dump was being read (NLM_F_DUMP_INTR) after rows had been "
           "returned; rows of the part that changed may be missing or repeated");
  }

  std::string_view table_;
  std::optional<kernel::DumpStream> stream_;
  std::optional<kernel::LinkNameCache> links_;
};

}  // namespace netsql::vt
