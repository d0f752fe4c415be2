// Writes a fuzz target's seed corpus from recorded fixtures:
//   make_seeds OUT_DIR FIXTURE...
// A .hex fixture holds one message per line, as "hex" or "name hex"; each
// becomes a binary file ('#' starts a comment line). Any other fixture is
// copied as it is.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

bool write_hex(const std::string& hex, const fs::path& to) {
  if (hex.size() % 2 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return false;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::ofstream(to, std::ios::binary) << bytes;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: make_seeds OUT_DIR FIXTURE...\n";
    return 2;
  }
  fs::path out = argv[1];
  fs::create_directories(out);
  for (int i = 2; i < argc; ++i) {
    fs::path in = argv[i];
    if (in.extension() != ".hex") {
      fs::copy_file(in, out / in.filename(), fs::copy_options::overwrite_existing);
      continue;
    }
    std::ifstream lines(in);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      std::istringstream words(line);
      std::string name, hex;
      words >> name >> hex;
      if (name.starts_with('#')) continue;
      if (hex.empty()) std::swap(name, hex);
      if (hex.empty()) continue;
      std::string file = in.stem().string() + "_" + (name.empty() ? std::to_string(n) : name);
      if (!write_hex(hex, out / file)) {
        std::cerr << in.string() << ":" << n << ": not an even number of hex digits\n";
        return 1;
      }
    }
  }
  return 0;
}
