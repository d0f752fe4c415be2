#include "libedit.h"

#include "kernel/dynamic_library.h"

namespace netsql::shell {
namespace {

constexpr const char* kLibrary = "libedit.so.2";  // the ABI of the headers built against

struct Loaded {
  Libedit api{};
  std::string error;  // why it could not be loaded; empty when it was
};

Loaded load_libedit() {
  Loaded out;
  kernel::DynamicLibrary lib(kLibrary);
  Libedit& a = out.api;
  lib.bind(a.readline, "readline");
  lib.bind(a.using_history, "using_history");
  lib.bind(a.read_history, "read_history");
  lib.bind(a.write_history, "write_history");
  lib.bind(a.add_history, "add_history");
  lib.bind(a.completion_matches, "rl_completion_matches");
  lib.bind(a.filename_completion_function, "rl_filename_completion_function");
  lib.bind(a.readline_name, "rl_readline_name");
  lib.bind(a.attempted_completion_function, "rl_attempted_completion_function");
  lib.bind(a.attempted_completion_over, "rl_attempted_completion_over");
  lib.bind(a.line_buffer, "rl_line_buffer");
  out.error = lib.error();
  return out;
}

}  // namespace

const Libedit* libedit(std::string& error) {
  static const Loaded loaded = load_libedit();
  error = loaded.error;
  return loaded.error.empty() ? &loaded.api : nullptr;
}

}  // namespace netsql::shell
