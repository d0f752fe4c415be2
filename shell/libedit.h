// libedit, opened (dlopen) when the prompt starts, not linked: linked, it
// and the three libraries it needs (libtinfo, libbsd, libmd) were mapped
// and relocated by every netsql run, about 0.6 ms of CPU, a quarter of a
// one-shot query that needs no line editing. The same approach as
// libnftables (ext/kernel/nft_read.cpp). It stays loaded for the process.
#pragma once

#include <editline/readline.h>

#include <string>

namespace netsql::shell {

// The functions and variables of libedit's readline interface the prompt uses.
struct Libedit {
  decltype(&::readline) readline;
  decltype(&::using_history) using_history;
  decltype(&::read_history) read_history;
  decltype(&::write_history) write_history;
  decltype(&::add_history) add_history;
  decltype(&::rl_completion_matches) completion_matches;
  decltype(&::rl_filename_completion_function) filename_completion_function;
  decltype(&::rl_readline_name) readline_name;
  decltype(&::rl_attempted_completion_function) attempted_completion_function;
  decltype(&::rl_attempted_completion_over) attempted_completion_over;
  decltype(&::rl_line_buffer) line_buffer;
};

// libedit, loaded on first use (once per process); nullptr if it cannot
// be, with `error` saying why ("cannot load libedit.so.2: ...").
const Libedit* libedit(std::string& error);

}  // namespace netsql::shell
