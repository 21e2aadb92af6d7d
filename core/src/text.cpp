// Locale-independent number formatting (see text.hpp).
#include "mcuport/text.hpp"

#include <charconv>
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

}  // namespace mcuport
