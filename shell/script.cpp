#include "script.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "dot_commands.h"
#include "signals.h"

namespace netsql::shell {

namespace {

// The lines of a script source, appended one at a time to the caller's
// buffer: the input is never held beyond one read chunk and that buffer.
class LineReader {
 public:
  explicit LineReader(const ScriptSource& src) : src_(src) {}

  // Appends the next line (with its '\n' unless it is the last) to `buf`;
  // false at the end of the input. Throws std::runtime_error, naming the
  // input and line, on a read error, a NUL byte, or when `buf` would grow
  // past kMaxStatementBytes.
  bool append_line(std::string& buf) {
    bool started = false;
    for (;;) {
      if (avail_.empty() && !fill()) return started;
      if (!started) {
        ++line_;
        started = true;
      }
      size_t nl = avail_.find('\n');
      size_t take = nl == std::string_view::npos ? avail_.size() : nl + 1;
      std::string_view piece = avail_.substr(0, take);
      if (piece.find('\0') != std::string_view::npos) fail("NUL byte in the input (not a text file?)");
      if (buf.size() + take > kMaxStatementBytes) fail(fmt::format("statement longer than {} MiB", kMaxStatementBytes >> 20));
      if (buf.capacity() < buf.size() + take)  // grow as std::string would, but never past the limit
        buf.reserve(std::min(std::max(2 * buf.capacity(), buf.size() + take), kMaxStatementBytes));
      buf.append(piece);
      avail_.remove_prefix(take);
      if (nl != std::string_view::npos) return true;
    }
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: line {}: {}", src_.name, line_, what));
  }

  // The next piece of input into avail_; false at the end.
  bool fill() {
    while (src_.fd >= 0 && !fd_done_) {
      ssize_t n = read(src_.fd, chunk_.get(), kChunk);
      if (n > 0) {
        avail_ = {chunk_.get(), static_cast<size_t>(n)};
        return true;
      }
      if (n == 0) fd_done_ = true;
      else if (errno == EINTR && stop_requested()) fd_done_ = then_done_ = true;  // Ctrl-C: the input ends
      else if (errno != EINTR) throw std::runtime_error("cannot read " + src_.name + ": " + std::strerror(errno));
    }
    if (then_done_ || src_.then.empty()) return false;
    then_done_ = true;
    avail_ = src_.then;
    return true;
  }

  const ScriptSource& src_;
  // Not zeroed: a one-shot query never reads into it, and 64 KiB zeroed
  // were 16 page faults of every start.
  std::unique_ptr<char[]> chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
  std::string_view avail_;
  bool fd_done_ = false, then_done_ = false;
  size_t line_ = 0;

 public:
  size_t line() const { return line_; }
};

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Whether appending `line` can complete a statement: sqlite3_complete()
// wants a ';' last (comments after it allowed), so a line with neither a
// ';' nor the end of a comment cannot. Spares re-scanning a long
// statement at each of its lines.
bool may_complete(std::string_view line) {
  return line.find(';') != std::string_view::npos || line.find("*/") != std::string_view::npos;
}

}  // namespace

ScriptFile::ScriptFile(const std::string& path) : path_(path), fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)) {
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
}

ScriptFile::~ScriptFile() { close(fd_); }

bool run_script(Session& s, const ScriptSource& src, std::ostream& out, std::ostream& err, bool numbered) {
  bool ok = true;
  try {
    LineReader in(src);
    std::string buf;    // the statement so far, then the line just read
    size_t first = 0;   // the line where buf starts
    auto run = [&] {
      bool done = s.run(buf, out, err, numbered ? first : 0);
      s.command_done();
      buf.clear();
      ok = ok && done;
      return done || !s.bail;
    };
    for (;;) {
      size_t start = buf.size();
      if (!in.append_line(buf)) break;
      if (start == 0) first = in.line();
      std::string_view line = std::string_view(buf).substr(start);
      if (start == 0 && blank(line)) {  // between statements
        buf.clear();
        continue;
      }
      size_t lead = line.find_first_not_of(" \t");
      if (start == 0 && line[lead] == '.') {
        std::string cmd(line.substr(lead, line.find_last_not_of(" \t\r\n") + 1 - lead));
        buf.clear();
        DotStatus st = dot_command(s, cmd, out, err);
        if (st == DotStatus::Exit || s.leaving) return ok;
        if (st == DotStatus::Error) {
          ok = false;
          if (s.bail) return false;
        }
        continue;
      }
      if (may_complete(line) && sqlite3_complete(buf.c_str()) && !run()) return false;
      if (stop_requested()) return false;  // Ctrl-C: what is left is not run
    }
    if (stop_requested()) return false;
    if (!blank(buf)) run();
    return ok;
  } catch (const std::runtime_error& e) {
    err << "Error: " << e.what() << "\n";
    return false;
  }
}

std::string read_query(const ScriptSource& src) {
  LineReader in(src);
  std::string text;
  while (in.append_line(text)) {
  }
  return text;
}

}  // namespace netsql::shell
