// A shared library opened at run time (dlopen) and the symbols bound from
// it, for libraries only some uses need (libnftables for a firewall table,
// libedit for the prompt): a start that does not use them neither maps nor
// relocates them. The library stays loaded for the life of the process
// (the bound pointers outlive this object: it never calls dlclose).
#pragma once

#include <dlfcn.h>

#include <string>

namespace netsql::kernel {

class DynamicLibrary {
 public:
  // `soname` names the ABI the headers were built against ("libedit.so.2").
  explicit DynamicLibrary(const char* soname) : name_(soname), handle_(::dlopen(soname, RTLD_NOW | RTLD_LOCAL)) {
    if (handle_) return;
    const char* e = ::dlerror();
    error_ = std::string("cannot load ") + soname + ": " + (e ? e : "unknown error");
  }

  // Points `sym` (a function or variable pointer) at `symbol`, searched in
  // the library and then in the libraries it loaded; nullptr if missing.
  template <class Pointer>
  void bind(Pointer& sym, const char* symbol) {
    sym = handle_ ? reinterpret_cast<Pointer>(::dlsym(handle_, symbol)) : nullptr;
    if (!sym && error_.empty()) error_ = std::string(name_) + " has no " + symbol;
  }

  // Why the library or one of the symbols bound could not be had; empty
  // when all could.
  const std::string& error() const { return error_; }

 private:
  const char* name_;
  void* handle_;
  std::string error_;
};

}  // namespace netsql::kernel
