// libFuzzer target over the public C++ API: bytes -> load_model (parse and validate) -> port in
// both numeric modes, on targets of different widths and storage, in both tree layouts -> the
// fixed-mode simulator on a few inputs; and load -> save_model -> load -> save_model, which
// must give the same document twice (a loaded model always writes and reloads). Built with clang -fsanitize=fuzzer,address,undefined
// (CMake option MCUPORT_FUZZ); scripts/fuzz runs it, docs/testing.md says how.
//
// mcuport::Error is the documented answer to a bad document or an option that does not fit the
// model: it ends that input. Anything else is a finding: a sanitizer report, a crash, any other
// exception (InternalError, std::bad_alloc, a stray nlohmann or std::out_of_range exception)
// aborts here with its message, as does a header that spells an infinity or a NaN (it would
// not compile), and libFuzzer's -timeout and -malloc_limit_mb catch inputs that
// hang or allocate out of proportion to their size.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "mcuport/dump.hpp"
#include "mcuport/error.hpp"
#include "mcuport/ir.hpp"
#include "mcuport/load.hpp"
#include "mcuport/port.hpp"
#include "mcuport/save.hpp"
#include "mcuport/simulator.hpp"

namespace {

[[noreturn]] void finding(const char* stage, const std::string& what) {
  std::fprintf(stderr, "fuzz_port: %s: %s\n", stage, what.c_str());
  std::abort();
}

// Runs `step`; mcuport::Error means "refused, correctly"; anything else aborts.
template <typename Step>
bool run(const char* stage, Step&& step) {
  try {
    step();
    return true;
  } catch (const mcuport::Error& e) {
    // The documented error: it must say what is wrong.
    if (std::string(e.what()).empty()) finding(stage, "mcuport::Error with an empty message");
    return false;
  } catch (const std::exception& e) {
    finding(stage, std::string("threw an exception other than mcuport::Error: ") + e.what());
  } catch (...) {
    finding(stage, "threw an exception not derived from std::exception");
  }
}

bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The header's code without its comments and string and character literals (labels and
// feature names are the document's own text), each replaced by a space.
std::string code_only(const std::string& header) {
  std::string code;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const char c = header[i];
    if (c == '/' && i + 1 < header.size() && header[i + 1] == '*') {
      const std::size_t end = header.find("*/", i + 2);
      i = end == std::string::npos ? header.size() : end + 1;
      code += ' ';
    } else if (c == '/' && i + 1 < header.size() && header[i + 1] == '/') {
      const std::size_t end = header.find('\n', i);
      i = end == std::string::npos ? header.size() : end;
      code += '\n';
    } else if (c == '"' || c == '\'') {
      for (++i; i < header.size() && header[i] != c; ++i) {
        if (header[i] == '\\') ++i;
      }
      code += ' ';
    } else {
      code += c;
    }
  }
  return code;
}

// C has no literal for an infinity or a NaN: a header whose code spells one ("inf.0f", "-nan")
// does not compile. The sanitizers cannot see that; this can.
void check_no_nonfinite_literal(const std::string& header) {
  const std::string code = code_only(header);
  for (const char* word : {"inf", "nan", "INF", "NAN"}) {
    for (std::size_t at = code.find(word); at != std::string::npos; at = code.find(word, at + 1)) {
      const bool starts = at == 0 || !identifier_char(code[at - 1]);
      const bool ends = at + 3 == code.size() || !identifier_char(code[at + 3]);
      if (starts && ends) finding("port_model", "a header with the literal " + code.substr(at, 8));
    }
  }
}

// Ports once; with `twice`, ports again and requires the same header (output is deterministic:
// this also catches some reads of uninitialized memory, which ASan does not).
void port_one(const std::string& text, const mcuport::PortOptions& options, bool twice = false) {
  std::string first;
  if (!run("port_model", [&] { first = mcuport::port_model(text, options).header; })) return;
  if (first.empty()) finding("port_model", "an empty header");
  check_no_nonfinite_literal(first);
  if (!twice) return;
  std::string second;
  if (!run("port_model", [&] { second = mcuport::port_model(text, options).header; }) ||
      second != first) {
    finding("port_model", "a second port of the same document gave a different header");
  }
}

// The fixed-mode simulator on inputs at zero, at the ends of the input ranges and far outside
// them (quantize saturates), NaN and the infinities, and the two ends alternating, through
// quantize, predict and scores; with the lowering's choices for `target`.
void simulate(const std::string& text, const char* target) {
  run("Simulator", [&] {
    const mcuport::Simulator simulator(text, mcuport::lower_options_for(target));
    const auto n = static_cast<std::size_t>(simulator.info().n_features);
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<std::vector<float>> inputs = {
        std::vector<float>(n, 0.0f), std::vector<float>(n, 1e30f), std::vector<float>(n, -1e30f),
        std::vector<float>(n, inf),  std::vector<float>(n, -inf),  std::vector<float>(n, nan)};
    for (const float first : {1e30f, -1e30f}) {
      std::vector<float> alternating(n);
      for (std::size_t f = 0; f < n; ++f) alternating[f] = f % 2 == 0 ? first : -first;
      inputs.push_back(alternating);
    }
    const auto& ranges = simulator.info().input_ranges;
    if (ranges.size() == n) {
      std::vector<float> lo(n), hi(n);
      for (std::size_t f = 0; f < n; ++f) {
        lo[f] = static_cast<float>(ranges[f].lo);
        hi[f] = static_cast<float>(ranges[f].hi);
      }
      inputs.push_back(lo);
      inputs.push_back(hi);
    }
    std::vector<int16_t> codes(n);
    std::vector<int64_t> scores(simulator.n_scores());
    for (const auto& x : inputs) {
      simulator.quantize(x.data(), codes.data());
      if (simulator.info().task != mcuport::Task::Transform &&
          simulator.info().task != mcuport::Task::Distance) {
        simulator.predict(codes.data());
      }
      if (!scores.empty()) simulator.scores(codes.data(), scores.data());
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  mcuport::Model model;
  if (!run("load_model", [&] { model = mcuport::load_model(text); })) return 0;
  run("dump", [&] { mcuport::dump(model); });
  // A loaded model is valid: writing it cannot fail, and what it writes loads to a model that
  // writes the same bytes again.
  std::string saved;
  if (!run("save_model", [&] { saved = mcuport::save_model(model); })) {
    finding("save_model", "refused a model that load_model accepted");
  }
  std::string again;
  if (!run("save_model", [&] { again = mcuport::save_model(mcuport::load_model(saved)); })) {
    finding("save_model", "load_model refused what save_model wrote");
  }
  if (again != saved) finding("save_model", "load -> save is not a fixed point");

  const bool trees = std::holds_alternative<mcuport::TreeEnsemble>(model.family);
  // Targets that differ in what the emitters see: the host (no flash limit), a 32-bit chip
  // without an FPU, one with the DSP extension and unaligned word loads (its own Mahalanobis
  // weights and naive Bayes terms: LowerOptions::overlapping_words, high_word_terms) and the
  // 8-bit AVR (16-bit int, 32-bit double, PROGMEM tables, 32 KB flash).
  for (const char* target : {"host", "cortex-m0", "cortex-m4f", "avr-atmega328p"}) {
    for (const mcuport::Numeric numeric : {mcuport::Numeric::Float, mcuport::Numeric::Fixed}) {
      mcuport::PortOptions options;
      options.name = "fuzz";
      options.target = target;
      options.numeric = numeric;
      const bool twice = std::string(target) == "host";
      if (!trees) {
        port_one(text, options, twice);
        continue;
      }
      for (const mcuport::TreeLayout layout :
           {mcuport::TreeLayout::Fast, mcuport::TreeLayout::Compact}) {
        options.layout = layout;
        port_one(text, options, twice && layout == mcuport::TreeLayout::Fast);
      }
      if (numeric == mcuport::Numeric::Fixed && model.info.task == mcuport::Task::Classification) {
        options.proba_bits = 8;
        port_one(text, options);
      }
    }
  }
  simulate(text, "host");
  simulate(text, "cortex-m4f");
  return 0;
}
