// Names, string literals and number literals of generated C (see c_names.hpp).
#include "c_names.hpp"

#include <cmath>
#include <cstdio>
#include <set>

#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

const std::set<std::string>& reserved_words() {
  // C99/C11/C23 and C++ keywords, and names the generated code relies on.
  static const std::set<std::string> words = {
      "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
      "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
      "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
      "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary",
      "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn", "_Static_assert",
      "_Thread_local", "alignas", "alignof", "bool", "constexpr", "false", "nullptr",
      "static_assert", "thread_local", "true", "typeof", "typeof_unqual", "and", "and_eq", "asm",
      "bitand", "bitor", "catch", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
      "const_cast", "consteval", "constinit", "co_await", "co_return", "co_yield", "decltype",
      "delete", "dynamic_cast", "explicit", "export", "friend", "mutable", "namespace", "new",
      "noexcept", "not", "not_eq", "operator", "or", "or_eq", "private", "protected", "public",
      "reinterpret_cast", "requires", "static_cast", "template", "this", "throw", "try",
      "typeid", "typename", "using", "virtual", "wchar_t", "xor", "xor_eq", "NULL", "main"};
  return words;
}

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void check_model_name(const std::string& name, const std::string& what) {
  const std::string rule =
      " (a " + what + " must match [A-Za-z][A-Za-z0-9_]*, be at most 48 characters, not be a "
      "C or C++ keyword and not be mcuport or start with mcuport_, in any case: it prefixes "
      "every symbol of the generated code)";
  std::string shown;
  for (char c : name) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (name.empty()) throw Error("", "the " + what + " is empty" + rule);
  if (name.size() > 48) {
    throw Error("", "the " + what + " \"" + shown.substr(0, 48) + "...\" is too long" + rule);
  }
  if (!is_ascii_letter(name[0])) {
    throw Error("", "the " + what + " \"" + shown + "\" does not start with a letter" + rule);
  }
  for (char c : name) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_') {
      throw Error("", "the " + what + " \"" + shown + "\" contains a character that is not a letter, "
                      "digit or underscore" + rule);
    }
  }
  if (name.find("__") != std::string::npos) {
    throw Error("", "the " + what + " \"" + shown + "\" contains \"__\", reserved in C and C++" + rule);
  }
  if (name.back() == '_') {
    throw Error("", "the " + what + " \"" + shown + "\" ends in \"_\", which would make \"" + shown +
                        "_predict\" with \"__\", reserved in C and C++" + rule);
  }
  if (reserved_words().count(name) != 0) {
    throw Error("", "the " + what + " \"" + shown + "\" is a C or C++ keyword" + rule);
  }
  // The headers' shared runtime (mcuport_fx_*, MCUPORT_SIMD32, MCUPORT_FX_ROM, ...) owns these
  // prefixes: a model named mcuport_fx would define MCUPORT_FX_ROM beside the runtime's.
  const std::string upper = to_upper_ascii(name);
  if (upper == "MCUPORT" || upper.compare(0, 8, "MCUPORT_") == 0) {
    throw Error("", "the " + what + " \"" + shown + "\" is " +
                        (upper == "MCUPORT" ? "" : "or starts with ") + "\"" +
                        shown.substr(0, 7) + "\": mcuport and names that start with mcuport_ "
                        "(in any case) belong to the generated code's shared runtime" + rule);
  }
}

std::string to_upper_ascii(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string string_literal(const std::string& bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    const bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char escape[5];
      std::snprintf(escape, sizeof escape, "\\%03o", static_cast<unsigned>(c));
      out += escape;
    }
  }
  return out + "\"";
}

namespace {
std::string ensure_floating_form(std::string text) {
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}
}  // namespace

// C has no literal for an infinity or a NaN ("inf.0f" does not compile). The loader keeps the
// document's numbers finite, but a finite double can still round to infinity in float32, or a
// product of finite parameters (whitening, folded scalers) overflow: a user error, named here.
[[noreturn]] void beyond_c_number(double value, const char* type, const std::string& path,
                                  const std::string& note) {
  throw Error(path, std::string("the generated code would need the ") + type + " constant " +
                      format_general(value, 6) + note +
                      (std::isnan(value) ? "" : ", beyond the " + std::string(type) + " range") +
                      ": the model's parameters (with any pipeline stages and whitening folded "
                      "in) are too large for it; rescale the model or use the other numeric mode");
}

std::string float_literal(float value) {
  if (!std::isfinite(value)) beyond_c_number(static_cast<double>(value), "float32");
  return ensure_floating_form(format_general(static_cast<double>(value), 9)) + "f";
}

std::string rounded_float_literal(double value, const std::string& path, const std::string& note) {
  if (!std::isfinite(static_cast<float>(value))) beyond_c_number(value, "float32", path, note);
  // wine's SVC on inputs times 1e30 has gamma 7.5e-62, which as 0.0f answered 37 of 45 test
  // rows otherwise.
  check_float32_normal(value, path, "constant",
                       "the model's parameters (with any pipeline stages and whitening folded "
                       "in) are too small for it; rescale the inputs (a StandardScaler in a "
                       "pipeline) or use fixed mode",
                       note);
  return float_literal(static_cast<float>(value));
}

bool float32_constant_holds(double value) {
  return std::isfinite(static_cast<float>(value)) && (value == 0 || std::fabs(value) >= 0x1p-126);
}

std::string double_literal(double value) {
  if (!std::isfinite(value)) beyond_c_number(value, "double");
  return ensure_floating_form(format_general(value, 17));
}

CType unsigned_type_for(uint64_t max_value) {
  if (max_value <= 0xffu) return {"uint8_t", 1};
  if (max_value <= 0xffffu) return {"uint16_t", 2};
  if (max_value <= 0xffffffffu) return {"uint32_t", 4};
  return {"uint64_t", 8};
}

}  // namespace mcuport::codegen
