// Error types: message formatting lives here so that every error reads the same way.
#include "mcuport/error.hpp"

#include <cmath>

#include "mcuport/text.hpp"

namespace mcuport {

namespace {
// The path as the message shows it: a hostile document's keys are part of it, so bytes outside
// printable ASCII are escaped (a control byte or a NUL cannot reach a terminal or cut the
// message short), and only its first kShownPathChars bytes are shown. path() keeps the raw
// pointer.
constexpr std::size_t kShownPathChars = 200;

std::string shown_path(const std::string& path) {
  if (path.size() <= kShownPathChars) return escape_unprintable(path);
  return escape_unprintable(path.substr(0, kShownPathChars)) + "...";
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

void check_float32_normal(double value, const std::string& path, const std::string& what,
                          const std::string& advice, const std::string& note) {
  if (value != 0 && std::fabs(value) < 0x1p-126) {
    throw Error(path, "the generated code would need the float32 " + what + " " +
                        format_general(value, 6) + note +
                        ", below the float32 range (it would become 0 or lose its precision): " +
                        advice);
  }
}

}  // namespace mcuport
