// process_open_files: a forked child holding a file at a known offset, both
// ends of a pipe and a socket, read back exactly and against ls -l
// /proc/PID/fd and lsof; pid pushdown; processes exiting mid-scan.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "support.h"

namespace netsql::test {
namespace {

using OpenFiles = NetnsTest;

// A child holding, at fixed descriptors: 40 a file opened read-write and
// appending, 1000 bytes long, positioned at 123; 41 and 42 the read and
// write ends of a non-blocking pipe; 43 a TCP listener.
struct Holder {
  std::string file = "/tmp/netsql-open-files-" + std::to_string(getpid());
  int listener = tcp_listener("127.0.0.1", 0);
  Child child{[this] {
    int f = open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    std::string data(1000, 'x');
    int p[2];
    if (f < 0 || write(f, data.data(), data.size()) != 1000 || lseek(f, 123, SEEK_SET) != 123 ||
        pipe2(p, O_NONBLOCK) != 0 || dup2(f, 40) != 40 || dup2(p[0], 41) != 41 || dup2(p[1], 42) != 42 ||
        dup2(listener, 43) != 43)
      _exit(2);
  }};
  ~Holder() {
    close(listener);
    unlink(file.c_str());
  }
  std::string pid() const { return std::to_string(child.pid); }
};

unsigned long inode_of_path(const std::string& path) {
  struct stat st{};
  stat(path.c_str(), &st);
  return st.st_ino;
}

TEST_F(OpenFiles, AForkedChildsFileAtAnOffsetPipeAndSocketAreExact) {
  Holder h;
  Db db;
  auto rows = db.rows("SELECT fd, path, type, inode, flags & " + std::to_string(O_ACCMODE | O_APPEND | O_NONBLOCK) +
                      ", access, pos FROM process_open_files WHERE pid = " + h.pid() + " AND fd BETWEEN 40 AND 43 "
                      "ORDER BY fd");
  ASSERT_EQ(rows.size(), 4u);
  std::string pipe_inode = *rows[1][3];
  std::string listener_inode = std::to_string(inode_of(h.listener));
  EXPECT_EQ(rows, (std::vector<Row>{
                      {"40", h.file, "file", std::to_string(inode_of_path(h.file)),
                       std::to_string(O_RDWR | O_APPEND), "read-write", "123"},
                      {"41", "pipe:[" + pipe_inode + "]", "pipe", pipe_inode, std::to_string(O_NONBLOCK), "read", "0"},
                      {"42", "pipe:[" + pipe_inode + "]", "pipe", pipe_inode,
                       std::to_string(O_WRONLY | O_NONBLOCK), "write", "0"},
                      {"43", "socket:[" + listener_inode + "]", "socket", listener_inode, std::to_string(O_RDWR),
                       "read-write", "0"},
                  }));
  // The socket joins with tcp_sockets on inode.
  EXPECT_EQ(db.rows("SELECT t.local_port FROM process_open_files f JOIN tcp_sockets t USING (inode) WHERE f.pid = " +
                    h.pid() + " AND f.fd = 43"),
            (std::vector<Row>{{std::to_string(local_port(h.listener))}}));
}

TEST_F(OpenFiles, EveryFdAndLinkMatchLsOfProcPidFd) {
  Holder h;
  // "lr-x------ 1 root root 64 Nov 25 19:00 41 -> pipe:[123]"
  std::map<std::string, std::string> ls;
  std::istringstream out(run("ls -l /proc/" + h.pid() + "/fd"));
  for (std::string line; std::getline(out, line);) {
    size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    size_t name = line.rfind(' ', arrow - 1);
    ls[line.substr(name + 1, arrow - name - 1)] = line.substr(arrow + 4);
  }
  Db db;
  std::map<std::string, std::string> ours;
  for (const Row& r : db.rows("SELECT fd, path FROM process_open_files WHERE pid = " + h.pid())) ours[*r[0]] = *r[1];
  EXPECT_GE(ls.size(), 4u);
  EXPECT_EQ(ours, ls);
}

TEST_F(OpenFiles, InodeAccessAndOffsetMatchLsof) {
  Holder h;
  // lsof -F: a line per field, 'f' starting each file: f40 / au / i123 / o0t123.
  std::map<std::string, std::map<char, std::string>> lsof;
  std::istringstream out(run("lsof -n -P -o -w -p " + h.pid() + " -F faio"));
  std::string fd;
  for (std::string line; std::getline(out, line);) {
    if (line.empty()) continue;
    if (line[0] == 'f') fd = line.substr(1);
    else if (!fd.empty()) lsof[fd][line[0]] = line.substr(1);
  }
  ASSERT_EQ(lsof.count("40"), 1u) << "lsof printed nothing for fd 40";
  const std::map<std::string, std::string> kAccess{{"r", "read"}, {"w", "write"}, {"u", "read-write"}};
  Db db;
  auto rows = db.rows("SELECT fd, inode, access, pos FROM process_open_files WHERE pid = " + h.pid() +
                      " AND fd BETWEEN 40 AND 43 ORDER BY fd");
  ASSERT_EQ(rows.size(), 4u);
  for (const Row& r : rows) {
    auto& l = lsof[*r[0]];
    if (*r[0] != "43") {  // lsof prints no inode for TCP sockets
      EXPECT_EQ(l['i'], *r[1]) << "fd " << *r[0];
    }
    EXPECT_EQ(kAccess.at(l['a']), *r[2]) << "fd " << *r[0];
  }
  EXPECT_EQ(lsof["40"]['o'], "0t" + *rows[0][3]);
}

TEST_F(OpenFiles, PidPushdownReadsThoseProcessesOnly) {
  Holder h;
  Db db;
  std::string me = std::to_string(getpid());
  EXPECT_EQ(db.rows("SELECT DISTINCT pid FROM process_open_files WHERE pid IN (" + me + ", " + h.pid() +
                    ") ORDER BY pid"),
            (std::vector<Row>{{me}, {h.pid()}}));
  // The same rows as a whole-machine scan filtered by SQLite. The position
  // is compared on the holder's own fds only: the ones it inherited (ctest's
  // log, say) are shared with processes that move them meanwhile.
  std::string cols = "SELECT fd, path, type, inode, flags, CASE WHEN fd BETWEEN 40 AND 43 THEN pos END "
                     "FROM process_open_files WHERE ";
  EXPECT_EQ(db.rows(cols + "pid = " + h.pid() + " ORDER BY fd"), db.rows(cols + "+pid = " + h.pid() + " ORDER BY fd"));
  for (const char* none : {"0", "-1", "'x'", "4194305000"})
    EXPECT_EQ(db.rows(std::string("SELECT * FROM process_open_files WHERE pid = ") + none), std::vector<Row>{}) << none;
}

TEST_F(OpenFiles, ProcessesExitingMidScanAreSkipped) {
  Churner churn;
  ASSERT_GT(churn.pid, 0);
  Holder h;
  Db db;
  const std::vector<Row> held{{"40", h.file}, {"43", "socket:[" + std::to_string(inode_of(h.listener)) + "]"}};
  long churned = churn.count();
  int scans = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        // Whole-machine scans reading every part of every fd.
        EXPECT_GT(db.scalar("SELECT count(*) FROM (SELECT * FROM process_open_files)"), 0);
        EXPECT_EQ(db.rows("SELECT fd, path FROM process_open_files WHERE +pid = " + h.pid() +
                          " AND fd IN (40, 43) AND pos >= 0 ORDER BY fd"),
                  held);
        ++scans;
        return scans >= 30 && churn.count() - churned >= 30;
      },
      120))
      << scans << " scans, " << churn.count() - churned << " exits";
}

}  // namespace
}  // namespace netsql::test
