// mcuport._core: the C++ pipeline bound for Python. Errors are translated in one place:
// mcuport::Error -> mcuport.ModelError (a ValueError); anything else -> RuntimeError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mcuport/dump.hpp"
#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/lower_trees.hpp"
#include "mcuport/port.hpp"
#include "mcuport/save.hpp"
#include "mcuport/simulator.hpp"
#include "mcuport/target.hpp"

namespace py = pybind11;

namespace {

py::dict port_model(const std::string& model_json, const std::string& name,
                    const std::optional<std::string>& numeric, const std::string& target,
                    const std::optional<std::string>& layout,
                    const std::optional<uint32_t>& proba_bits, const std::string& style,
                    const std::string& classname) {
  mcuport::PortOptions options;
  options.name = name;
  options.style = mcuport::parse_style(style);
  options.classname = classname;
  options.target = target;
  if (numeric) options.numeric = mcuport::parse_numeric(*numeric);
  if (layout) options.layout = mcuport::parse_layout(*layout);
  options.proba_bits = proba_bits;
  mcuport::PortResult result;
  {
    py::gil_scoped_release release;
    result = mcuport::port_model(model_json, options);
  }
  py::dict out;
  out["header"] = result.header;
  out["name"] = result.name;
  out["target"] = mcuport::find_target(target).name;
  out["task"] = mcuport::to_string(result.task);
  out["n_features"] = result.n_features;
  out["n_classes"] = result.n_classes;
  out["numeric"] = mcuport::to_string(result.numeric);
  out["table_bytes"] = result.table_bytes;
  out["predict_type"] = result.scores.predict_type;
  out["scores_function"] = result.scores.function;
  out["n_scores"] = result.scores.n_scores;
  out["score_type"] = result.scores.score_type;
  out["scores_scalar"] = result.scores.scalar;
  if (result.layout) {
    out["layout"] = mcuport::to_string(*result.layout);
  } else {
    out["layout"] = py::none();
  }
  if (result.proba_bits != 0) {
    out["proba_bits"] = result.proba_bits;
  } else {
    out["proba_bits"] = py::none();
  }
  if (result.input_quantization) {
    py::list features;
    for (const auto& q : result.input_quantization->features) {
      features.append(py::make_tuple(q.lo, q.hi, q.scale, q.zero_point));
    }
    out["input_quantization"] = features;
  } else {
    out["input_quantization"] = py::none();
  }
  return out;
}

using Codes = py::array_t<int16_t, py::array::c_style | py::array::forcecast>;
using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Checks an (n, n_features) array and returns n.
py::ssize_t rows_of(const py::buffer_info& info, int32_t n_features) {
  if (info.ndim != 2 || info.shape[1] != n_features) {
    throw py::value_error("inputs must have shape (n, " + std::to_string(n_features) + ")");
  }
  return info.shape[0];
}

void bind_simulator(py::module_& m) {
  py::class_<mcuport::Simulator>(m, "Simulator",
                                 "Fixed-mode generated code, simulated bit for bit in the core.")
      .def(py::init([](const std::string& model_json, uint32_t proba_bits, const std::string& target) {
             if (!mcuport::valid_proba_bits(proba_bits)) {
               throw mcuport::Error("", "proba_bits must be 8 or 16, got " +
                                            std::to_string(proba_bits));
             }
             // The integers of that target's header (some layouts are chosen per target).
             return mcuport::Simulator(model_json, mcuport::lower_options_for(target, proba_bits));
           }),
           py::arg("model_json"), py::arg("proba_bits") = mcuport::kDefaultProbaBits,
           py::arg("target") = "host")
      .def_property_readonly("n_features",
                             [](const mcuport::Simulator& s) { return s.info().n_features; })
      .def_property_readonly("n_scores", &mcuport::Simulator::n_scores)
      .def_property_readonly("score_unit", &mcuport::Simulator::score_unit)
      .def_property_readonly("output_unit", &mcuport::Simulator::output_unit)
      .def_property_readonly("task",
                             [](const mcuport::Simulator& s) { return mcuport::to_string(s.info().task); })
      .def_property_readonly("classes",
                             [](const mcuport::Simulator& s) {
                               py::list out;
                               for (const auto& label : s.info().classes) {
                                 out.append(py::make_tuple(label.text, label.numeric));
                               }
                               return out;
                             })
      .def("quantize",
           [](const mcuport::Simulator& s, const Floats& x) {
             const auto info = x.request();
             const py::ssize_t n = rows_of(info, s.info().n_features);
             Codes codes({n, static_cast<py::ssize_t>(s.info().n_features)});
             const float* in = x.data();
             int16_t* out = codes.mutable_data();
             for (py::ssize_t i = 0; i < n; ++i) {
               s.quantize(in + i * s.info().n_features, out + i * s.info().n_features);
             }
             return codes;
           })
      .def("predict",
           [](const mcuport::Simulator& s, const Codes& codes) {
             const py::ssize_t n = rows_of(codes.request(), s.info().n_features);
             py::array_t<int64_t> out(n);
             for (py::ssize_t i = 0; i < n; ++i) {
               out.mutable_data()[i] = s.predict(codes.data() + i * s.info().n_features);
             }
             return out;
           })
      .def("scores", [](const mcuport::Simulator& s, const Codes& codes) {
        const py::ssize_t n = rows_of(codes.request(), s.info().n_features);
        const auto k = static_cast<py::ssize_t>(s.n_scores());
        py::array_t<int64_t> out({n, k});
        for (py::ssize_t i = 0; i < n && k > 0; ++i) {
          s.scores(codes.data() + i * s.info().n_features, out.mutable_data() + i * k);
        }
        return out;
      });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "mcuport's C++ core: model JSON -> validated IR -> C header";
  py::register_exception<mcuport::Error>(m, "ModelError", PyExc_ValueError);

  m.attr("__version__") = mcuport::kVersion;
  m.attr("FORMAT_VERSION") = mcuport::kFormatVersion;
  m.attr("FORMAT_NAME") = mcuport::kFormatName;

  bind_simulator(m);

  m.def("port_model", &port_model, py::arg("model_json"), py::arg("name"),
        py::arg("numeric"), py::arg("target"), py::arg("layout") = py::none(),
        py::arg("proba_bits") = py::none(), py::arg("style") = "c", py::arg("classname") = "",
        "Port a model document; returns a dict with the header and what was decided.");
  m.def("proba_one_code", &mcuport::proba_one_code, py::arg("proba_bits"),
        "The code of probability 1.0 for fixed-mode tree leaves of proba_bits bits.");
  m.def(
      "validate",
      [](const std::string& model_json) {
        py::gil_scoped_release release;
        mcuport::load_model(model_json);
      },
      py::arg("model_json"), "Load and validate a model document; raises ModelError.");
  m.def(
      "canonical",
      [](const std::string& model_json, int indent) {
        std::string text;
        {
          py::gil_scoped_release release;
          text = mcuport::save_model(mcuport::load_model(model_json), indent);
        }
        return text;
      },
      py::arg("model_json"), py::arg("indent") = -1,
      "Load a model document and write it back from the IR (mcuport::save_model).");
  m.def(
      "dump", [](const std::string& model_json) { return mcuport::dump(mcuport::load_model(model_json)); },
      py::arg("model_json"), "A readable text form of the loaded model.");
  m.def("targets", []() {
    py::list out;
    for (const auto& t : mcuport::known_targets()) {
      py::dict d;
      d["name"] = t.name;
      d["aliases"] = t.aliases;
      d["description"] = t.description;
      d["arch"] = t.arch;
      d["has_fpu"] = t.has_fpu;
      d["int_bits"] = t.int_bits;
      d["double_bits"] = t.double_bits;
      d["const_storage"] = mcuport::to_string(t.const_storage);
      d["default_numeric"] = mcuport::to_string(t.default_numeric);
      d["compiler"] = t.compiler;
      d["cflags"] = t.cflags;
      d["toolchain_package"] = t.toolchain_package;
      d["emulator"] = t.emulator;
      d["emulator_package"] = t.emulator_package;
      d["clock_hz"] = t.clock_hz;
      d["flash_bytes"] = t.flash_bytes;
      d["ram_bytes"] = t.ram_bytes;
      d["max_object_bytes"] = t.max_object_bytes;
      d["unaligned_words"] = t.unaligned_words;  // its lowering differs (LowerOptions::overlapping_words)
      out.append(d);
    }
    return out;
  });
}
