// Error types: message formatting lives here so that every error reads the same way.
#include "mcuport/error.hpp"

namespace mcuport {

namespace {
// The path as the message shows it: a hostile document's keys are part of it, so bytes outside
// printable ASCII are escaped (a control byte or a NUL cannot reach a terminal or cut the
// message short) and a path longer than kShownPathChars is cut. path() keeps the raw pointer.
constexpr std::size_t kShownPathChars = 200;

std::string shown_path(const std::string& path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto byte = static_cast<unsigned char>(path[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += path[i];
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
    if (out.size() >= kShownPathChars && i + 1 < path.size()) return out + "...";
  }
  return out;
}

std::string format_message(const std::string& path, const std::string& detail) {
  if (path.empty()) return detail;
  return "(" + shown_path(path) + ") " + detail;
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
