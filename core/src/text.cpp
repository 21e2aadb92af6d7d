// Locale-independent number formatting and message escaping (see text.hpp).
#include "mcuport/text.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include "mcuport/error.hpp"

namespace mcuport {

std::string format_general(double value, int significant_digits) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value,
                                    std::chars_format::general, significant_digits);
  MCUPORT_ASSERT(result.ec == std::errc());
  return std::string(buffer, result.ptr);
}

std::string format_bound(double bound, int significant_digits) {
  return format_general(bound * (1 + std::pow(10.0, 1 - significant_digits)), significant_digits);
}

std::string escape_unprintable(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

}  // namespace mcuport
