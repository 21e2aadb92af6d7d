// Internal interface between the driver (port.cpp), the shared header frame (emit_header.cpp)
// and the per-family emitters (emit_<family>.cpp).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "c_writer.hpp"
#include "mcuport/ir.hpp"
#include "mcuport/lower.hpp"
#include "mcuport/port.hpp"
#include "mcuport/quantize.hpp"
#include "mcuport/target.hpp"

namespace mcuport::codegen {

// The most inputs a predict copies, widened to int32, onto its stack once per prediction (512
// bytes): Cortex-M0's looped affine maps (emit_affine.cpp) and naive Bayes's high-word terms
// (emit_naive_bayes.cpp); in float mode, the most inputs centred once per prediction on the stack
// (a linear map with several outputs, naive Bayes, an RBF kernel).
constexpr uint32_t kWidenedInputsMax = 128;

struct EmitContext {
  const Model& model;
  const Target& target;
  Numeric numeric;
  std::string prefix;  // the checked model name: prefix of functions and tables
  std::string macro;   // its upper-case form: prefix of macros
  const InputQuantization* quantization;  // fixed mode only
  const StageProgram* stage = nullptr;    // pipeline stages run before the family's code
  std::optional<TreeLayout> layout;       // tree models: asked for, or chosen by the emitter


  const char* input_type() const { return numeric == Numeric::Float ? "float" : "int16_t"; }
  // Renders a template with `values` plus the placeholders every template may use:
  // {{p}} (prefix), {{P}} (macro prefix), {{xt}} (input element type), {{nf}} (the macro of the
  // family's input width: N_FEATURES, or N_STAGE_OUTPUTS behind a stage), and for the functions
  // that receive the caller's input, {{xin}} (its parameter name) and {{stage}} (the lines that
  // turn it into the family's x).
  std::string render(const std::string& text, const TemplateValues& values = {}) const;

  // Whether the family's tables have the pipeline's stages composed into them (they take the
  // raw input): no stage of their own runs first.
  bool stages_composed() const { return stage == nullptr && !model.preprocessing.empty(); }
  // Whether an input of those tables is one input of the estimator: no stage, or per-feature
  // scalers only (a PCA stage mixes the inputs, whatever its width).
  bool inputs_kept() const {
    if (!stages_composed()) return true;
    for (const Stage& s : model.preprocessing) {
      if (!std::holds_alternative<FeatureScaler>(s)) return false;
    }
    return true;
  }
  // Where a float32 table of the estimator's parameter `field` comes from (FieldOrigin), the
  // table `columns` wide (a matrix) or one value per input (a vector): element by element while
  // its columns are the estimator's inputs, else (pipeline stages that mix the inputs composed
  // into it) a matrix row by row and a vector as a whole; noted where stages are composed in.
  FieldOrigin matrix_field(const std::string& field, std::size_t columns) const {
    FieldOrigin origin{field, FieldOrigin::Layout::Matrix, columns, composed_note()};
    if (!inputs_kept()) origin.layout = FieldOrigin::Layout::Rows;
    return origin;
  }
  FieldOrigin vector_field(const std::string& field) const {
    FieldOrigin origin{field, FieldOrigin::Layout::Elements, 0, composed_note()};
    if (!inputs_kept()) origin.layout = FieldOrigin::Layout::Whole;
    return origin;
  }
  std::string composed_note() const {
    return stages_composed() ? " (this field with the pipeline's stages composed in)" : "";
  }
};

// What a family contributes to the header.
struct FamilyCode {
  ScoresInterface scores;  // the per-model score vector, for host tools and tests
  std::string summary;    // header comment lines (" * ...\n"), numbers only
  std::string api;        // header comment lines describing the functions
  std::string includes;   // extra "#include <...>" lines (float mode: <math.h>)
  bool fixed_runtime = false;  // paste codegen/runtime/mcuport_fixed.h into the header
  bool simd = false;           // define MCUPORT_SIMD32 (Arm DSP paths; emit_header.cpp)
  bool thumb1_asm = false;     // define MCUPORT_THUMB1_ASM (Cortex-M0 inner loops; emit_header.cpp)
  std::string macros;     // "#define ..." lines
  TableWriter tables;
  std::string functions;
  std::optional<TreeLayout> layout;  // tree models: the layout emitted
  // A lower bound on the code's own flash where it grows with the model (fast-layout trees),
  // checked with the tables against the target's flash, and what to do when it does not fit.
  uint64_t code_bytes_at_least = 0;
  std::string code_size_advice;
  // Float mode behind a diagonal stage: the stage's center where the family moved its own into
  // it (stage_center_taking); empty: the stage program's.
  std::vector<double> stage_center;
};

FamilyCode emit_trees(const EmitContext& context, const TreeProgram& program);
// The compact layout's two tree formats (0: counted leaves, 1: leaf codes in the records): the
// bytes of the tables emit_trees predicts for each without writing them (it chooses by these
// and writes only the one it keeps), and the bytes of the tables each writes, which the tests
// hold equal to them.
struct CompactFormatBytes {
  uint64_t predicted[2] = {0, 0};
  uint64_t written[2] = {0, 0};
  bool coded = false;  // the format emit_trees keeps: leaf codes
  // Per format: the records' threshold field is 16 bits and goes first, and (where int is 16
  // bits) the records' low part is 16 bits wide, the threshold itself.
  bool threshold_first[2] = {false, false};
  bool low16[2] = {false, false};
};
CompactFormatBytes compact_format_bytes(const EmitContext& context, const TreeProgram& program);
FamilyCode emit_svm(const EmitContext& context, const SvmProgram& program);
FamilyCode emit_linear(const EmitContext& context, const LinearProgram& program);

// Add the tables of an affine map to `code` and return the C function evaluating it:
// `void {{p}}_<function>(const float x[], float out[])` from float64 weights (rounded to
// float32), or `void {{p}}_<function>(const int16_t x[], int64_t out[])` from a FixedLinear.
// A nonempty `center` (float mode: a pipeline's, keeps_center_apart) is subtracted from each
// input first: out_k = bias_k + sum_f weight_kf (x_f - center_f), the table {{p}}_<table>_center.
std::string emit_float_linear(const EmitContext& context, FamilyCode& code,
                              const std::vector<double>& weight, const FieldOrigin& weight_origin,
                              const std::vector<double>& bias, const FieldOrigin& bias_origin,
                              const std::string& function, const std::string& table,
                              const std::string& doc, const std::vector<double>& center = {});
// The header summary's line for such a center (the table {{p}}_<table>_center).
std::string float_linear_center_note(const EmitContext& context, const std::string& table);
// Float mode: the C lines forming `float xc[{{nf}}]`, each input x[f] less the table `center`[f],
// once per prediction (at most kWidenedInputsMax inputs); `declare_index` declares the loop's
// `uint32_t f` too.
std::string float_centred_inputs(const EmitContext& context, const std::string& center,
                                 bool declare_index);
// Float mode behind a diagonal stage y = w (x - c) (context.stage, per-feature scalers): the
// stage center c + shift / w, whose outputs are y - shift (`shift` per output, in the
// estimator's units), for the family to hold its parameters less `shift`: a center far from
// zero is subtracted from the raw input, written as float32 and remainder (float_center), and
// not from the stage's float32 outputs, already rounded at the size of the center. Empty where
// the stage is not such a stage, no shift is nonzero, or a center would leave float32's range.
std::vector<double> stage_center_taking(const EmitContext& context, const std::vector<double>& shift);
// A family moves a feature's center m into the stage only where |m| is more than this many
// times the largest distance of its values (class means, support vectors) from m: the stage's
// outputs then shrink at least 7-fold (three bits of float32 rounding). Behind a scaler that
// centres already (StandardScaler) the values straddle zero and stay where they are: moving
// them could only put some into a larger binade.
inline constexpr double kStageShiftRatio = 8;
// One feature's shift for stage_center_taking: the float32 average m of `values` (its class
// means, its support vector coordinates) where the largest is past kCenterApartRatio times
// `spread` (a stage output near it rounds by up to 2^-24 of its size: more than that many
// units of the spread's float32 rounding; a mean of exactly 1.0 rounds nothing, its neighbours
// do) and |m| past kStageShiftRatio times the values' distance from it; 0 elsewhere, and where
// a value is not a float32 (its table refuses it).
double stage_feature_shift(const std::vector<double>& values, double spread);
// Whether context.stage is a float diagonal stage, which stage_center_taking can move.
bool float_diagonal_stage(const EmitContext& context);
// Float mode: add the point `center` subtracted from the input (one value per input, float64)
// to `code` as the table `name`, and return the C expression of x[f] less it. The float32
// nearest a center of 1e5 is up to 0.004 off, a large part of such a feature's spread: where any
// value is not a float32, a second table `name`_lo holds the remainders (center - hi rounded to
// float32, to within 2^-48 of the center) and the expression subtracts both,
// ((x[f] - hi[f]) - lo[f]), the first difference exact for x within a factor 2 of hi (Sterbenz).
// `input` and `index` name the input element and the tables' index where they are not x[f], f.
std::string float_center(FamilyCode& code, const std::string& name, const std::vector<double>& center,
                         const FieldOrigin& origin, const std::string& doc,
                         const std::string& input = "x[f]", const std::string& index = "f");
// Float mode, a weighted sum per row, z_r = sum_f w(r, f) (x[f] - center[f]): as float_center,
// the float32 nearest each center is subtracted in the loop, but the remainders are not: their
// share of each row, sum_f w(r, f) (hi[f] - center[f]) (in float64, then float32), is the
// table `start` (one value per row) where the row's sum starts, in place of a second
// subtraction per multiply-accumulate. The same to within float32 rounding of the terms, which
// the second subtraction had too. Returns the expression of row `row`'s first value ("0.0f"
// where every center is a float32); the loop subtracts `name`[f] from x[f].
std::string float_row_center(FamilyCode& code, const std::string& name, const std::vector<double>& center,
                           const FieldOrigin& origin, const std::string& doc, uint32_t n_rows,
                           const std::function<double(uint32_t, uint32_t)>& weight,
                           const std::string& start, const std::string& row);
// With one_row, the function is `int64_t {{p}}_<function>(const int16_t x[], uint32_t k)`,
// evaluating output k only; where widened_inputs() holds, it takes `{{p}}_<function>_widened*`,
// the codes widened by `void {{p}}_<function>_inputs(const int16_t x[], {{p}}_<function>_widened*)`
// into a struct the caller provides (row_inputs()), which also holds the Thumb-1 loop's state.
std::string emit_fixed_linear(const EmitContext& context, FamilyCode& code, const FixedLinear& map,
                              const std::string& function, const std::string& table,
                              const std::string& doc, bool one_row = false);
// Whether a fixed map's rows take their inputs widened to int32 (Cortex-M0: int32 weights, the
// inner loop in Thumb-1 assembly; emit_affine.cpp).
bool widened_inputs(const EmitContext& context, const FixedLinear& map);
// What a function calling a map's rows (emit_fixed_linear's `row_function`) writes so that they
// get their inputs: the codes widened once, or the codes as they are.
struct RowInputs {
  std::string x = "x";                     // what to pass the rows
  std::string param = "const int16_t x[]";  // a parameter that forwards it, named x
  std::string declare;  // "    <p>_<row_function>_widened xw;\n" where widened, else nothing
  std::string widen;    // "    <p>_<row_function>_inputs(x, &xw);\n", else nothing
};
RowInputs row_inputs(const EmitContext& context, const FixedLinear& map,
                     const std::string& row_function);
FamilyCode emit_naive_bayes(const EmitContext& context, const NaiveBayesProgram& program);
FamilyCode emit_pca(const EmitContext& context, const PcaProgram& program);
FamilyCode emit_mahalanobis(const EmitContext& context, const MahalanobisProgram& program);

// "static inline int32_t {{p}}_argmax(...)": the first index of the largest of n values, as
// numpy's argmax; `type` is the element type. Shared by the arithmetic families.
std::string argmax_function(const EmitContext& context, const std::string& type);

// "static inline {{type}} {{p}}_square(int32_t t)": t^2 exactly in 64 bits (from 16-bit halves
// where MCUPORT_MUL32_ONLY); `type` is int64_t or uint64_t. Shared by naive Bayes and Mahalanobis.
std::string square_function(const EmitContext& context, const std::string& type);

// The stage's tables and `void {{p}}_stage(const {{xt}} x[], {{xt}} y[])`, when there is one.
std::string emit_stage(const EmitContext& context, FamilyCode& code);

// Wraps a family's code in the header: comment, guard, common macros, labels, quantization.
// `cpp_class`: C++ after the C API, inside the include guard (the micromlgen style's class).
std::string emit_header(const EmitContext& context, const FamilyCode& family,
                        const std::string& cpp_class = "");

// The micromlgen style's class (emit_micromlgen.cpp): micromlgen's interface over the C API.
std::string emit_micromlgen_class(const EmitContext& context, const std::string& classname);

}  // namespace mcuport::codegen
