// Error types: message formatting lives here so that every error reads the same way.
#include "mcuport/error.hpp"

namespace mcuport {

namespace {
std::string format_message(const std::string& path, const std::string& detail) {
  if (path.empty()) return detail;
  return "(" + path + ") " + detail;
}
}  // namespace

Error::Error(std::string path, std::string detail)
    : std::runtime_error(format_message(path, detail)),
      path_(std::move(path)),
      detail_(std::move(detail)) {}

void internal_error(const char* file, int line, const std::string& what) {
  throw InternalError(std::string("mcuport internal error at ") + file + ":" +
                      std::to_string(line) + ": " + what + " (please report this as a bug)");
}

}  // namespace mcuport
