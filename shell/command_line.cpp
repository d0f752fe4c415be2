#include "command_line.h"

#include <getopt.h>

#include <algorithm>
#include <iostream>

namespace netsql::shell {

namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

const std::string& name_of(const Option& o) { return o.long_name.empty() ? o.short_name : o.long_name; }

std::string undashed(const std::string& name) { return name.substr(std::min(name.find_first_not_of('-'), name.size())); }

}  // namespace

int usage_error(const Command& c, const std::string& what) {
  std::cerr << c.invocation() << ": " << what << "\n" << help_text(c);
  return 2;
}

std::string option_needs(const Option& o, const std::string& what) { return "option " + quoted(name_of(o)) + " needs " + what; }

std::string parse_options(const Command& c, const std::vector<std::string>& args, ParsedCommandLine& out,
                          Dashes dashes) {
  // getopt_long reports a long option by its index in c.options (past any
  // character), a short one by its letter.
  constexpr int kLong = 256;
  std::vector<option> longs;
  std::string shorts = ":";  // ':' first: a missing value is reported as ':', not '?'
  for (size_t i = 0; i < c.options.size(); ++i) {
    const Option& o = c.options[i];
    int has = o.value.empty() ? no_argument : required_argument;
    if (!o.long_name.empty())
      longs.push_back({o.long_name.c_str() + o.long_name.find_first_not_of('-'), has, nullptr, kLong + static_cast<int>(i)});
    if (!o.short_name.empty()) shorts += o.short_name.substr(1) + (has ? ":" : "");
  }
  longs.push_back({});
  std::vector<std::string> words{c.invocation()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(words.size());
  // The option (long by index, short by letter) getopt_long names in `code`.
  auto declared = [&](int code) -> const Option* {
    if (code >= kLong) return &c.options[static_cast<size_t>(code - kLong)];
    return code > 0 ? c.find(std::string{'-', static_cast<char>(code)}) : nullptr;
  };
  optind = 0;  // glibc: start over (a previous parse may have left its state)
  opterr = 0;  // the errors are ours
  auto next = dashes == Dashes::Two ? getopt_long : getopt_long_only;
  for (int code; (code = next(argc, argv.data(), shorts.c_str(), longs.data(), nullptr)) != -1;) {
    std::string given = optind > 0 && optind <= argc ? argv[static_cast<size_t>(optind - 1)] : "";
    given = given.substr(0, given.find('='));
    if (code == ':') {
      // Named as given (--db, -m), or by its letter where it came among
      // others (-tA).
      const Option* o = declared(optopt);
      const std::string name = !o || o->matches(given)  ? given
                               : optopt < kLong          ? std::string{'-', static_cast<char>(optopt)}
                                                         : name_of(*o);
      return "option " + quoted(name) + " needs a value";
    }
    if (code == '?') {
      // A flag given a value (--help=x) names the flag in optopt; an
      // unknown or ambiguous long option has optopt 0, a short one its letter.
      if (const Option* o = declared(optopt); o && optopt >= kLong)
        return "option " + quoted(name_of(*o)) + " takes no value";
      if (optopt) {
        // A long option given one dash (-listen) reads as short letters:
        // the word is named, with the option it means.
        const std::string letter{'-', static_cast<char>(optopt)};
        for (int i : {optind, optind - 1}) {
          if (i < 1 || i >= argc) continue;
          const std::string word = argv[static_cast<size_t>(i)];
          if (word.size() <= 2 || word[0] != '-' || word[1] == '-' || word.find(letter[1]) == std::string::npos) continue;
          const std::string stem = undashed(word.substr(0, word.find('=')));
          for (const Option& o : c.options)
            if (!o.long_name.empty() && undashed(o.long_name).starts_with(stem))
              return "unknown option " + quoted(word.substr(0, word.find('='))) + " (did you mean " +
                     quoted(o.long_name) + "?)";
        }
        return "unknown option " + quoted(letter);
      }
      std::string could;  // the declared names `given` abbreviates, when it is ambiguous
      const std::string stem = undashed(given);
      for (const Option& o : c.options)
        if (!stem.empty() && undashed(o.long_name).starts_with(stem)) could += (could.empty() ? "" : ", ") + o.long_name;
      if (could.find(',') != std::string::npos) return "ambiguous option " + quoted(given) + ": " + could;
      return "unknown option " + quoted(given);
    }
    const Option* o = declared(code);
    out.options.emplace_back(o, optarg ? optarg : "");
    if (o->long_name == "--help" || o->long_name == "--version") {
      optind = 0;
      return "";  // what follows is not read (as netstat and sqlite3 do)
    }
  }
  for (int i = optind; i < argc; ++i) out.operands.push_back(argv[static_cast<size_t>(i)]);
  optind = 0;  // and leave none for the next parser
  return "";
}

std::optional<int> parse_command_line(const Command& c, const std::vector<std::string>& args, ParsedCommandLine& out,
                                      Dashes dashes) {
  if (std::string error = parse_options(c, args, out, dashes); !error.empty()) return usage_error(c, error);
  if (!out.options.empty() && out.options.back().first->long_name == "--help") {
    std::cout << help_text(c);
    return 0;
  }
  return std::nullopt;
}

}  // namespace netsql::shell
