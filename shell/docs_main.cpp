// netsql_docs: prints the table reference generated from the declarations,
// or with --update FILE rewrites FILE's reference section in place.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "vtabs/docs.h"

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
      std::ofstream(argv[2]) << out;
    } catch (const std::exception& e) {
      std::cerr << "netsql_docs: " << argv[2] << ": " << e.what() << "\n";
      return 1;
    }
    return 0;
  }
  std::cerr << "usage: netsql_docs [--update README.md]\n";
  return 2;
}
