// Every examples/*.sql runs without error against live tables, so none of
// them goes stale.
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "support.h"

namespace netsql::test {
namespace {

using Examples = NetnsTest;

TEST_F(Examples, EveryFileRuns) {
  int l = tcp_listener("127.0.0.1", 0);
  int c = tcp_connect("127.0.0.1", local_port(l));
  int s = tcp_accept(l);
  int u = udp_socket("127.0.0.1", 0);
  std::vector<std::string> files;
  DIR* d = opendir(NETSQL_SOURCE_DIR "/examples");
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".sql") files.push_back(name);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 5u);
  Db db;
  for (const auto& f : files) {
    std::ifstream in(std::string(NETSQL_SOURCE_DIR "/examples/") + f);
    std::stringstream sql;
    sql << in.rdbuf();
    char* err = nullptr;
    int rc = sqlite3_exec(db.handle(), sql.str().c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << f << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  for (int fd : {l, c, s, u}) close(fd);
}

}  // namespace
}  // namespace netsql::test
