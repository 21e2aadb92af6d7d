// Text helpers. Locale-independent number formatting: printf's %g follows LC_NUMERIC, so a host
// program that set a German locale would get "1,5" in generated C; these never do. And the one
// escaping of untrusted bytes (a hostile document's keys, a caller's option) in messages.
#pragma once

#include <string>

namespace mcuport {

// As printf("%.*g", significant_digits, value) in the "C" locale.
std::string format_general(double value, int significant_digits);

// A nonnegative error bound in at most `significant_digits` digits, never below it, for the
// bounds headers and messages state: to nearest, the digits could fall up to half a unit of
// the last digit short, so the value is first raised by a whole unit's worth (10^(1 - digits)
// relative).
std::string format_bound(double bound, int significant_digits);

// `text` as an error message shows it: printable ASCII kept, every other byte (control bytes,
// NUL, bytes of UTF-8 sequences) as \xNN, so the message is ASCII text wherever it is shown.
std::string escape_unprintable(const std::string& text);

}  // namespace mcuport
