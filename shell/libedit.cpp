#include "libedit.h"

#include <dlfcn.h>

#include <type_traits>

namespace netsql::shell {
namespace {

constexpr const char* kLibrary = "libedit.so.2";  // the ABI of the headers built against

struct Loaded {
  Libedit api{};
  std::string error;  // why it could not be loaded; empty when it was
};

Loaded load_libedit() {
  Loaded out;
  void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = ::dlerror();
    out.error = std::string("cannot load ") + kLibrary + ": " + (e ? e : "unknown error");
    return out;
  }
  auto bind = [&](auto& sym, const char* name) {
    sym = reinterpret_cast<std::remove_reference_t<decltype(sym)>>(::dlsym(lib, name));
    if (!sym && out.error.empty()) out.error = std::string(kLibrary) + " has no " + name;
  };
  Libedit& a = out.api;
  bind(a.readline, "readline");
  bind(a.using_history, "using_history");
  bind(a.read_history, "read_history");
  bind(a.write_history, "write_history");
  bind(a.add_history, "add_history");
  bind(a.completion_matches, "rl_completion_matches");
  bind(a.filename_completion_function, "rl_filename_completion_function");
  bind(a.readline_name, "rl_readline_name");
  bind(a.attempted_completion_function, "rl_attempted_completion_function");
  bind(a.attempted_completion_over, "rl_attempted_completion_over");
  bind(a.line_buffer, "rl_line_buffer");
  return out;
}

}  // namespace

const Libedit* libedit(std::string& error) {
  static const Loaded loaded = load_libedit();
  error = loaded.error;
  return loaded.error.empty() ? &loaded.api : nullptr;
}

}  // namespace netsql::shell
