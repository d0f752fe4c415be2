// Reaching into another network namespace without disturbing the caller:
// work that must happen "inside" (creating a netlink socket, reading
// /proc/thread-self/net/*) runs on a short-lived helper thread that setns()
// into the target; the calling thread never changes namespace. A netlink
// socket keeps the namespace it was created in, so the caller then reads
// from it directly. Part of the kernel layer.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "kernel/fd.h"
#include "kernel/netlink.h"

namespace netsql::kernel {

// A namespace that cannot be opened or entered; the message says which and why.
struct NetnsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A namespace that vanished: an absolute path that no longer exists (its
// process exited, it was unbound), or a file in /run/netns with no
// namespace mounted on it (ip netns del unmounts, then unlinks). A
// host-wide join over network_namespaces meets these when namespaces come
// and go during the query.
struct NetnsGone : NetnsError {
  using NetnsError::NetnsError;
};

class Netns {
 public:
  // The caller's own namespace.
  Netns() = default;

  // `spec`: a name bound under /run/netns, an absolute path to a namespace
  // file (/proc/PID/ns/net, /run/docker/netns/...), or a pid (digits).
  // Never blocks: nothing is opened for reading until it is known to be a
  // namespace file. Throws NetnsGone or NetnsError.
  static Netns open(std::string_view spec);

  bool is_caller() const { return !fd_; }

  // A netlink socket living in this namespace.
  NetlinkSocket netlink(int protocol) const;

  // Runs f on a thread inside this namespace (on the calling thread when
  // this is the caller's namespace) and returns its result; exceptions
  // cross back to the caller.
  template <class F>
  auto run(F&& f) const -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if (is_caller()) return f();
    std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
    std::exception_ptr error;
    auto inside = [&] {
      try {
        enter();
        if constexpr (std::is_void_v<R>) {
          f();
          result.emplace(0);
        } else {
          result.emplace(f());
        }
      } catch (...) {
        error = std::current_exception();
      }
    };
    std::thread t;
    try {
      t = std::thread(inside);
    } catch (const std::system_error& e) {  // thread limit reached
      throw NetnsError("cannot start a thread to enter network namespace " + spec_ + ": " + e.code().message());
    }
    t.join();
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) return std::move(*result);
  }

 private:
  void enter() const;  // setns on the current (helper) thread
  Fd fd_;
  std::string spec_;
};

// The inode of the calling thread's network namespace.
uint64_t current_netns_inode();

// One network namespace of the host, found under /run/netns or through a
// process (/proc/PID/ns/net).
struct NetnsInfo {
  uint64_t inode = 0;
  std::string name;  // first name bound under /run/netns, "" if none
  std::string path;  // a path that opens it
  int pid = 0;       // lowest pid inside, 0 if none visible
  int64_t processes = 0;
};

// Every network namespace we can see, ordered by inode.
std::vector<NetnsInfo> list_network_namespaces();

}  // namespace netsql::kernel
