// netsql_docs: the documentation generated from the declarations.
//   netsql_docs                     the table reference (markdown)
//   netsql_docs --update README.md  rewrites README.md's reference section
//   netsql_docs --write DIR         writes what is installed: netsql.1,
//                                   netsql-tables.7, netsql.bash-completion,
//                                   tables.md
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "completion.h"
#include "manpages.h"
#include "vtabs/docs.h"

namespace {

bool write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) std::cerr << "netsql_docs: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 1) {
    std::cout << netsql::vt::reference_markdown() << "\n";
    return 0;
  }
  if (argc == 3 && std::string_view(argv[1]) == "--update") {
    std::ifstream in(argv[2]);
    if (!in) {
      std::cerr << "netsql_docs: cannot read " << argv[2] << "\n";
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      std::string out = netsql::vt::replace_reference(ss.str());
      return write(argv[2], out) ? 0 : 1;
    } catch (const std::exception& e) {
      std::cerr << "netsql_docs: " << argv[2] << ": " << e.what() << "\n";
      return 1;
    }
  }
  if (argc == 3 && std::string_view(argv[1]) == "--write") {
    std::string dir = argv[2];
    bool ok = write(dir + "/netsql.1", netsql::shell::netsql_man_page()) &&
              write(dir + "/netsql-tables.7", netsql::shell::netsql_tables_man_page()) &&
              write(dir + "/netsql.bash-completion", netsql::shell::bash_completion()) &&
              write(dir + "/tables.md", "# netsql tables\n\n" + netsql::vt::reference_markdown() + "\n");
    return ok ? 0 : 1;
  }
  std::cerr << "usage: netsql_docs [--update README.md | --write DIR]\n";
  return 2;
}
