// The micromlgen style: micromlgen's C++ interface (namespace Eloquent::ML::Port, a class with
// `predict(float *x)`, `predictLabel`, `idxToLabel`, `transform`) over the C functions of the
// header, so that a sketch written for micromlgen compiles unchanged. Float inputs go through
// `<p>_quantize` in fixed mode; the answers are the C API's, that is scikit-learn's.
#include <algorithm>
#include <cstring>
#include <string>

#include "emit.hpp"
#include "mcuport/error.hpp"

namespace mcuport::codegen {

namespace {

const char* kClass = R"(
#ifdef __cplusplus
/* micromlgen's interface (style "micromlgen"): the class a sketch written for micromlgen uses,
 * on the C functions above (named from the global scope: another model's class may bear the
 * name of one); docs/migrating-from-micromlgen.md lists what differs. */
namespace Eloquent {
namespace ML {
namespace Port {

class {{classname}} {
public:
{{members}}{{private}}};

}  // namespace Port
}  // namespace ML
}  // namespace Eloquent
#endif /* __cplusplus */
)";

// The model's input, as the C predict path takes it, in a local named `xin`.
const char* kFloatInput = "";
const char* kFixedInput = R"(        int16_t xq[{{P}}_N_FEATURES];
        ::{{p}}_quantize(x, xq);
)";

const char* kClassifier = R"(    /* The class index of x (float[{{P}}_N_FEATURES]), as scikit-learn's predict. */
    int predict(float *x) {
{{input}}        return (int)::{{p}}_predict({{xin}});
    }

    /* The label of x's class. */
    const char *predictLabel(float *x) {
        return idxToLabel((uint8_t)predict(x));
    }

    /* The label of class classIdx, or "" for an index out of range. */
    const char *idxToLabel(uint8_t classIdx) {
        const char *label = ::{{p}}_label((int32_t)classIdx);
{{label_return}}    }
)";

const char* kLabelReturn = R"(        return label != NULL ? label : "";
)";

// Labels in flash (avr-gcc's PROGMEM): copied into the object, as micromlgen's callers expect a
// string in RAM.
const char* kLabelReturnProgmem = R"(        if (label == NULL) return "";
        strncpy_P(label_, label, sizeof label_ - 1u);
        label_[sizeof label_ - 1u] = '\0';
        return label_;
)";

const char* kLabelBuffer = R"(
private:
    char label_[{{size}}] = {0};  /* the longest label and its NUL */
)";

const char* kOutlier = R"(    /* +1 when x (float[{{P}}_N_FEATURES]) is an inlier, -1 for an outlier, as scikit-learn's
     * predict. */
    int predict(float *x) {
{{input}}        return (int)::{{p}}_predict({{xin}});
    }
)";

const char* kRegressor = R"(    /* The predicted value for x (float[{{P}}_N_FEATURES]), as scikit-learn's predict. */
    float predict(float *x) {
{{input}}        return {{value}};
    }
)";

const char* kTransform = R"(    /* The {{P}}_N_OUTPUTS outputs of transform for x (float[{{P}}_N_FEATURES]), written to dest,
     * or over the first {{P}}_N_OUTPUTS elements of x when dest is NULL (micromlgen's rule). */
    void transform(float *x, float *dest = NULL) {
        float u[{{P}}_N_OUTPUTS];
        uint32_t k;
{{compute}}        float *out = dest != NULL ? dest : x;
        for (k = 0u; k < {{P}}_N_OUTPUTS; ++k) {
            out[k] = u[k];
        }
    }
)";

const char* kTransformFloat = R"(        ::{{p}}_transform(x, u);
)";

const char* kTransformFixed = R"(        int16_t xq[{{P}}_N_FEATURES];
        int32_t y[{{P}}_N_OUTPUTS];
        ::{{p}}_quantize(x, xq);
        ::{{p}}_transform(xq, y);
        for (k = 0u; k < {{P}}_N_OUTPUTS; ++k) {
            u[k] = ::{{p}}_dequantize_output(y[k]);
        }
)";

}  // namespace

std::string emit_micromlgen_class(const EmitContext& context, const std::string& classname) {
  const ModelInfo& info = context.model.info;
  const bool fixed = context.numeric == Numeric::Fixed;
  TemplateValues values = {{"input", context.render(fixed ? kFixedInput : kFloatInput)},
                           {"xin", fixed ? "xq" : "x"}};
  std::string members;
  std::string private_part;
  switch (info.task) {
    case Task::Classification: {
      const bool progmem = context.target.const_storage == ConstStorage::Progmem;
      values.emplace("label_return", context.render(progmem ? kLabelReturnProgmem : kLabelReturn));
      members = context.render(kClassifier, values);
      if (progmem) {
        std::size_t longest = 0;
        for (const Label& label : info.classes) {
          // The C string ends at the label's first NUL, as every C reader of it does.
          longest = std::max(longest, std::strlen(label.text.c_str()));
        }
        private_part = context.render(kLabelBuffer, {{"size", std::to_string(longest + 1)}});
      }
      break;
    }
    case Task::OutlierDetection:
      members = context.render(kOutlier, values);
      break;
    case Task::Regression:
      values.erase("xin");
      values.emplace("value", fixed ? context.render("::{{p}}_dequantize_output(::{{p}}_predict(xq))")
                                    : context.render("::{{p}}_predict(x)"));
      members = context.render(kRegressor, values);
      break;
    case Task::Transform:
      members = context.render(
          kTransform, {{"compute", context.render(fixed ? kTransformFixed : kTransformFloat)}});
      break;
    case Task::Distance:
      throw Error("", "the micromlgen style has no interface for a distance model (" +
                          info.estimator +
                          ", task \"distance\"); use the C interface (style \"c\"): " +
                          context.prefix + "_score(x)");
  }
  return context.render(kClass, {{"classname", classname},
                                 {"members", members},
                                 {"private", private_part}});
}

}  // namespace mcuport::codegen
