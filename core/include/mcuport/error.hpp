// Error types. A user error (bad model JSON, bad option) and an internal error (a bug in
// mcuport) are different types, so that callers can tell "fix your input" from "report this".
#pragma once

#include <stdexcept>
#include <string>

namespace mcuport {

// A problem with what the user gave us. `path` is a JSON pointer into the model document
// ("/params/trees/3/children_left/17"; "/" is the document's top-level object), or empty when
// the problem is an option or the document as a whole (malformed JSON).
class Error : public std::runtime_error {
 public:
  Error(std::string path, std::string detail);
  const std::string& path() const noexcept { return path_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string path_;
  std::string detail_;
};

// A broken invariant inside mcuport. Never caused by input alone; always a bug.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void internal_error(const char* file, int line, const std::string& what);

// Float mode's rule for every constant of the generated code: a nonzero value below float32's
// smallest normal number (2^-126) would be written as 0 or a subnormal of few bits, so it is
// refused with an Error at `path` (the model document's field the constant comes from), the
// message naming `what` ("constant", "leaf value") and the value, then `note` (how the value
// comes from the field: " (...)", or nothing), and ending in `advice`.
void check_float32_normal(double value, const std::string& path, const std::string& what,
                          const std::string& advice, const std::string& note = "");

}  // namespace mcuport

#define MCUPORT_ASSERT(cond)                                       \
  do {                                                             \
    if (!(cond)) ::mcuport::internal_error(__FILE__, __LINE__, #cond); \
  } while (0)
