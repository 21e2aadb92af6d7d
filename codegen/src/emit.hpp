// Internal interface between the driver (port.cpp), the shared header frame (emit_header.cpp)
// and the per-family emitters (emit_<family>.cpp).
#pragma once

#include <string>

#include "c_writer.hpp"
#include "mcuport/ir.hpp"
#include "mcuport/lower_trees.hpp"
#include "mcuport/quantize.hpp"
#include "mcuport/target.hpp"

namespace mcuport::codegen {

struct EmitContext {
  const Model& model;
  const Target& target;
  Numeric numeric;
  std::string prefix;  // the checked model name: prefix of functions and tables
  std::string macro;   // its upper-case form: prefix of macros
  const InputQuantization* quantization;  // fixed mode only

  const char* input_type() const { return numeric == Numeric::Float ? "float" : "int16_t"; }
  // Renders a template with `values` plus the placeholders every template may use:
  // {{p}} (prefix), {{P}} (macro prefix), {{xt}} (input element type).
  std::string render(const std::string& text, const TemplateValues& values = {}) const;
};

// What a family contributes to the header.
struct FamilyCode {
  std::string summary;    // header comment lines (" * ...\n"), numbers only
  std::string api;        // header comment lines describing the functions
  std::string macros;     // "#define ..." lines
  TableWriter tables;
  std::string functions;
};

FamilyCode emit_trees(const EmitContext& context, const TreeProgram& program);

// Wraps a family's code in the header: comment, guard, common macros, labels, quantization.
std::string emit_header(const EmitContext& context, const FamilyCode& family);

}  // namespace mcuport::codegen
