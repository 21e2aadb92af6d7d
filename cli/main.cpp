// The mcuport command-line tool: model JSON in, C header out, with the options of port().
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "mcuport/dump.hpp"
#include "mcuport/save.hpp"
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
  --layout LAYOUT     tree models: fast (straight-line code, fewest cycles) or compact
                      (packed node tables, least flash); default: from the target's flash
  --proba-bits BITS   tree classifiers, fixed mode: 16 (default) or 8 bits per leaf
                      probability (half the probability tables; error at most 0.5/255 of a
                      tree's vote instead of 0.5/65280)
  --style STYLE       c (default: the C API) or micromlgen (the C API plus micromlgen's
                      C++ class Eloquent::ML::Port::CLASSNAME, for sketches written for it)
  --classname NAME    the micromlgen style's class name, which also prefixes the C symbols
                      (default: micromlgen's for the estimator: RandomForest, SVM, ...)
  --dump              print the loaded model instead of C
  --json              print the loaded model as a model document instead of C (the same
                      keys and numbers, one line: `mcuport --json a.json` of a document
                      written by mcuport.to_json gives that document back)
  --list-targets      list the known targets
  --version           print the version
  -h, --help          show this help
MODEL.json may be - for standard input.
)";

int usage_error(const std::string& message) {
  std::cerr << "mcuport: error: " << message << "\n" << kUsage;
  return 2;
}

// Each returns "" on success, else why the file cannot be read or written.
std::string read_all(const std::string& path, std::string* text) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::error_code error;
    // A directory opens as a stream on Linux and reads as empty text: say what it is.
    if (std::filesystem::is_directory(path, error)) return "it is a directory";
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::strerror(errno);
    buffer << in.rdbuf();
    if (in.bad()) return std::strerror(errno);
  }
  *text = buffer.str();
  return "";
}

// Writes the whole text or nothing. A regular file (or a new one) is replaced atomically: the
// text goes to a fresh temporary file beside the real target (symlinks followed), which is then
// renamed over it. Anything else (/dev/stdout, a pipe) is written in place.
std::string write_output(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);  // follows symlinks
  if (fs::is_directory(status)) return "it is a directory";
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.flush();
    return out ? "" : std::strerror(errno);
  }
  const fs::path target = fs::weakly_canonical(path, error);
  if (error) return error.message();
  std::string temporary = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX"));
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) return std::strerror(errno);
  bool ok = true;
  int why = 0;
  for (std::size_t written = 0; ok && written < text.size();) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
    if (!ok) why = errno;
  }
  // mkstemp makes the file private (0600); a header is an ordinary file, as the umask allows.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (ok && ::fchmod(fd, static_cast<mode_t>(0666 & ~mask)) != 0) ok = false, why = errno;
  if (::close(fd) != 0 && ok) ok = false, why = errno;
  if (ok && std::rename(temporary.c_str(), target.c_str()) != 0) ok = false, why = errno;
  if (!ok) std::remove(temporary.c_str());
  return ok ? "" : std::strerror(why);
}

}  // namespace

int main(int argc, char** argv) {
  mcuport::PortOptions options;
  std::string input;
  std::string output;
  enum class Output { Header, Dump, Json } what = Output::Header;
  std::set<std::string> given;  // an option given twice is a mistake, not "the last one wins"
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg.size() > 1 && arg[0] == '-' && arg != "-h" && arg != "--help") {
      const std::string name = arg == "-o" ? "--output" : arg;
      if (!given.insert(name).second) return usage_error(name + " given more than once");
      if (given.count("--dump") > 0 && given.count("--json") > 0) {
        return usage_error("--dump and --json exclude each other");
      }
    }
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
               arg == "--target" || arg == "--layout" || arg == "--proba-bits" ||
               arg == "--style" || arg == "--classname") {
      const char* v = value();
      if (v == nullptr) return usage_error(arg + " needs a value");
      if (arg == "-o" || arg == "--output") output = v;
      if (arg == "--name") options.name = v;
      if (arg == "--target") options.target = v;
      if (arg == "--classname") options.classname = v;
      try {
        if (arg == "--numeric") options.numeric = mcuport::parse_numeric(v);
        if (arg == "--layout") options.layout = mcuport::parse_layout(v);
        if (arg == "--proba-bits") options.proba_bits = mcuport::parse_proba_bits(v);
        if (arg == "--style") options.style = mcuport::parse_style(v);
      } catch (const mcuport::Error& e) {
        return usage_error(e.what());
      }
    } else if (arg == "--dump") {
      what = Output::Dump;
    } else if (arg == "--json") {
      what = Output::Json;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    } else if (input.empty()) {
      input = arg;
    } else {
      return usage_error("more than one model file given");
    }
  }
  if (input.empty()) return usage_error("no model file given");
  try {
    mcuport::check_options(options);
  } catch (const mcuport::Error& e) {
    return usage_error(e.what());
  }

  std::string text;
  if (const std::string why = read_all(input, &text); !why.empty()) {
    std::cerr << "mcuport: error: cannot read " << input << ": " << why << "\n";
    return 1;
  }
  std::string result;
  try {
    switch (what) {
      case Output::Header: result = mcuport::port(text, options); break;
      case Output::Dump: result = mcuport::dump(mcuport::load_model(text)); break;
      case Output::Json: result = mcuport::save_model(mcuport::load_model(text)) + "\n"; break;
    }
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
  if (const std::string why = write_output(output, result); !why.empty()) {
    std::cerr << "mcuport: error: cannot write " << output << ": " << why << "\n";
    return 1;
  }
  return 0;
}
