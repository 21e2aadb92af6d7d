// Locale-independent number formatting. printf's %g follows LC_NUMERIC, so a host program that
// set a German locale would get "1,5" in generated C; these never do.
#pragma once

#include <string>

namespace mcuport {

// As printf("%.*g", significant_digits, value) in the "C" locale.
std::string format_general(double value, int significant_digits);

}  // namespace mcuport
