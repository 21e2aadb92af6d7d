// The one place that turns names and strings into C text. Identifiers come only from the
// checked model name; everything from a model's strings becomes an escaped string literal.
#pragma once

#include <cstdint>
#include <string>

namespace mcuport::codegen {

// Throws mcuport::Error unless `name` is a usable C identifier prefix: [A-Za-z][A-Za-z0-9_]*,
// at most 48 characters, not a C or C++ keyword, no double underscore, not ending in '_'.
void check_model_name(const std::string& name, const std::string& what = "model name");

std::string to_upper_ascii(const std::string& text);

// A C string literal holding exactly `bytes`: printable ASCII stays (but for " \ and ?, which
// would end the literal, escape or form a trigraph); everything else is a 3-digit octal escape.
std::string string_literal(const std::string& bytes);

// Literals that read back to exactly the given value.
// (As "%.9g" and "%.17g" in the C locale, whatever the process's locale.)
std::string float_literal(float value);    // 9 significant digits + "f", with '.' or exponent
std::string double_literal(double value);  // 17 significant digits
// The float32 literal of a double rounded to float32. A double beyond the float32 range, or
// nonzero below its smallest normal number (2^-126, where it would become 0 or a subnormal), is
// refused with an Error at `path`, the model document's field the constant comes from, naming
// the double itself (not the float32 infinity or zero it rounds to), then `note`: how the value
// comes from the field (" (...)"), where it is not the field's own.
std::string rounded_float_literal(double value, const std::string& path,
                                  const std::string& note = "");
// Whether rounded_float_literal takes `value`.
bool float32_constant_holds(double value);
// Both throw mcuport::Error for a value C cannot write (an infinity or a NaN): this does, naming
// the value and the type ("float32" or "double"), at `path` (empty where no field is known),
// then `note` as rounded_float_literal's.
[[noreturn]] void beyond_c_number(double value, const char* type, const std::string& path = "",
                                  const std::string& note = "");

// The smallest unsigned C type holding `max_value` and its size in bytes.
struct CType {
  const char* name;
  unsigned bytes;
};
CType unsigned_type_for(uint64_t max_value);

}  // namespace mcuport::codegen
