// Lists the nftables ruleset of a namespace through libnftables, on a
// thread inside the namespace (Netns::run), where libnftables opens its
// netlink socket. A build with -DNETSQL_NFTABLES=OFF (the lean build) has
// no libnftables: listing is then an error that says so.
//
// libnftables is opened (dlopen) the first time a ruleset is listed, not
// linked: linked, it and the five libraries it needs (libnftnl, libmnl,
// libxtables, libjansson, libgmp) were mapped and relocated by every netsql
// start and every .load of the extension, about a millisecond, a fifth of
// a one-shot query. It stays loaded for the life of the process.
#include <stdexcept>

#include "kernel/netns.h"
#include "kernel/nft.h"

#if NETSQL_NFTABLES
#include <gmp.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "kernel/dynamic_library.h"

namespace netsql::kernel {
namespace {

constexpr const char* kLibrary = "libnftables.so.1";  // the ABI of the headers built against

// The functions of libnftables (and of the libgmp it loads) used here.
struct Nftables {
  decltype(&nft_ctx_new) ctx_new;
  decltype(&nft_ctx_free) ctx_free;
  decltype(&nft_ctx_buffer_output) buffer_output;
  decltype(&nft_ctx_buffer_error) buffer_error;
  decltype(&nft_ctx_output_set_flags) output_set_flags;
  decltype(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
  decltype(&nft_ctx_get_output_buffer) get_output_buffer;
  decltype(&nft_ctx_get_error_buffer) get_error_buffer;
  decltype(&mp_get_memory_functions) get_memory_functions;
  decltype(&mp_set_memory_functions) set_memory_functions;
};

struct Loaded {
  Nftables api{};
  std::string error;  // why it could not be loaded; empty when it was
};

Loaded load_nftables() {
  Loaded out;
  DynamicLibrary lib(kLibrary);  // its symbols, then libgmp's (a library it loads)
  Nftables& a = out.api;
  lib.bind(a.ctx_new, "nft_ctx_new");
  lib.bind(a.ctx_free, "nft_ctx_free");
  lib.bind(a.buffer_output, "nft_ctx_buffer_output");
  lib.bind(a.buffer_error, "nft_ctx_buffer_error");
  lib.bind(a.output_set_flags, "nft_ctx_output_set_flags");
  lib.bind(a.run_cmd_from_buffer, "nft_run_cmd_from_buffer");
  lib.bind(a.get_output_buffer, "nft_ctx_get_output_buffer");
  lib.bind(a.get_error_buffer, "nft_ctx_get_error_buffer");
  lib.bind(a.get_memory_functions, "__gmp_get_memory_functions");
  lib.bind(a.set_memory_functions, "__gmp_set_memory_functions");
  out.error = lib.error();
  return out;
}

// libnftables, loaded on first use (once per process, thread-safe).
const Nftables& nftables() {
  static const Loaded loaded = load_nftables();
  if (!loaded.error.empty()) throw std::runtime_error("nftables: " + loaded.error);
  return loaded.api;
}

// libnftables installs its own GMP allocator (process-wide) the first time
// a context is made; the program that loaded us may use GMP with its own.
class KeepGmpAllocator {
 public:
  KeepGmpAllocator() { nftables().get_memory_functions(&alloc_, &realloc_, &free_); }
  ~KeepGmpAllocator() { nftables().set_memory_functions(alloc_, realloc_, free_); }
  KeepGmpAllocator(const KeepGmpAllocator&) = delete;
  KeepGmpAllocator& operator=(const KeepGmpAllocator&) = delete;

 private:
  void* (*alloc_)(size_t) = nullptr;
  void* (*realloc_)(void*, size_t, size_t) = nullptr;
  void (*free_)(void*, size_t) = nullptr;
};

std::string trimmed(const char* s) {
  std::string t = s ? s : "";
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

// libnftables exits the process when it cannot open its netlink socket,
// and prints to stderr when the kernel refuses: ask the kernel first, with
// a socket of our own closed before libnftables opens its (NFT_MSG_GETGEN
// needs CAP_NET_ADMIN, as every nfnetlink request does).
void check_nftables_access() {
  NetlinkSocket sock(NETLINK_NETFILTER);
  Request req((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST | NLM_F_ACK);
  req.append(nfgenmsg{AF_UNSPEC, NFNETLINK_V0, 0});
  try {
    Dump d(sock, req);
    while (d.next()) {
    }
  } catch (const NetlinkError& e) {
    if (e.error() == EPERM)
      throw std::runtime_error("nftables: listing the ruleset needs CAP_NET_ADMIN in the namespace");
    throw std::runtime_error(std::string("nftables: ") + e.what());
  }
}

// The listing as `nft -a -y list ruleset` prints it. libnftables writes to
// buffers it owns (not to stdout or stderr once access is checked) and
// closes its socket in nft_ctx_free.
std::string nft_listing() {
  // libxtables (which nft_ctx_new initialises) calls _exit(111) in a
  // process whose real and effective uids differ: refuse before it can.
  if (getuid() != geteuid())
    throw std::runtime_error("nftables: not listed in a process whose real and effective user ids differ "
                             "(libxtables would end the process)");
  check_nftables_access();
  const Nftables& nft = nftables();
  KeepGmpAllocator gmp;
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(nft.ctx_new(NFT_CTX_DEFAULT), nft.ctx_free);
  if (!ctx) throw std::runtime_error("nftables: cannot create a libnftables context");
  if (nft.buffer_output(ctx.get()) || nft.buffer_error(ctx.get()))
    throw std::runtime_error("nftables: cannot buffer libnftables output");
  // Terse: named sets without their elements (a million-entry blocklist
  // would otherwise be printed into the buffer, only to be skipped).
  nft.output_set_flags(ctx.get(), NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_NUMERIC_PRIO | NFT_CTX_OUTPUT_TERSE);
  if (nft.run_cmd_from_buffer(ctx.get(), "list ruleset") != 0) {
    std::string err = trimmed(nft.get_error_buffer(ctx.get()));
    throw std::runtime_error("nftables: " + (err.empty() ? std::string("list ruleset failed") : err));
  }
  return nft.get_output_buffer(ctx.get());
}

}  // namespace

Ruleset list_ruleset(const Netns& ns) {
  return parse_nft_listing(ns.run(nft_listing));
}

}  // namespace netsql::kernel

#else

namespace netsql::kernel {

Ruleset list_ruleset(const Netns&) {
  throw std::runtime_error("this netsql was built without nftables support (-DNETSQL_NFTABLES=OFF)");
}

}  // namespace netsql::kernel

#endif
