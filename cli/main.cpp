// The mcuport command-line tool: model JSON in, C header out, with the options of port().
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "mcuport/dump.hpp"
#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/port.hpp"
#include "mcuport/target.hpp"

namespace {

const char* kUsage = R"(usage: mcuport [options] MODEL.json
Turns a model document (written by mcuport.to_json) into a self-contained C99 header.

options:
  -o, --output FILE   write the header to FILE (default: standard output); the file is
                      written whole or not at all
  --name NAME         prefix of every generated symbol (default: model)
  --numeric MODE      float or fixed (default: the target's)
  --target NAME       target description (default: host); --list-targets shows them
  --dump              print the loaded model instead of C
  --list-targets      list the known targets
  --version           print the version
  -h, --help          show this help
MODEL.json may be - for standard input.
)";

int usage_error(const std::string& message) {
  std::cerr << "mcuport: error: " << message << "\n" << kUsage;
  return 2;
}

bool read_all(const std::string& path, std::string* text) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    buffer << in.rdbuf();
    if (in.bad()) return false;
  }
  *text = buffer.str();
  return true;
}

// Writes to a temporary file beside the target, then renames it over the target.
bool write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".mcuport-tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  mcuport::PortOptions options;
  std::string input;
  std::string output;
  bool dump_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << "mcuport " << mcuport::kVersion << " (model format version "
                << mcuport::kFormatVersion << ")\n";
      return 0;
    } else if (arg == "--list-targets") {
      for (const auto& target : mcuport::known_targets()) {
        std::cout << target.name << "\t" << mcuport::to_string(target.default_numeric) << "\t"
                  << target.description << "\n";
      }
      return 0;
    } else if (arg == "-o" || arg == "--output" || arg == "--name" || arg == "--numeric" ||
               arg == "--target") {
      const char* v = value(arg.c_str());
      if (v == nullptr) return usage_error(arg + " needs a value");
      if (arg == "-o" || arg == "--output") output = v;
      if (arg == "--name") options.name = v;
      if (arg == "--target") options.target = v;
      if (arg == "--numeric") {
        try {
          options.numeric = mcuport::parse_numeric(v);
        } catch (const mcuport::Error& e) {
          return usage_error(e.what());
        }
      }
    } else if (arg == "--dump") {
      dump_only = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    } else if (input.empty()) {
      input = arg;
    } else {
      return usage_error("more than one model file given");
    }
  }
  if (input.empty()) return usage_error("no model file given");

  std::string text;
  if (!read_all(input, &text)) {
    std::cerr << "mcuport: error: cannot read " << input << "\n";
    return 1;
  }
  std::string result;
  try {
    result = dump_only ? mcuport::dump(mcuport::load_model(text)) : mcuport::port(text, options);
  } catch (const mcuport::Error& e) {
    std::cerr << "mcuport: error: " << input << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "mcuport: " << e.what() << "\n";
    return 3;
  }
  if (output.empty()) {
    std::cout << result;
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  if (!write_atomically(output, result)) {
    std::cerr << "mcuport: error: cannot write " << output << "\n";
    return 1;
  }
  return 0;
}
