// mcuport._core: the C++ pipeline bound for Python. Errors are translated in one place:
// mcuport::Error -> mcuport.ModelError (a ValueError); anything else -> RuntimeError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mcuport/dump.hpp"
#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/port.hpp"
#include "mcuport/target.hpp"

namespace py = pybind11;

namespace {

py::dict port_model(const std::string& model_json, const std::string& name,
                    const std::optional<std::string>& numeric, const std::string& target) {
  mcuport::PortOptions options;
  options.name = name;
  options.target = target;
  if (numeric) options.numeric = mcuport::parse_numeric(*numeric);
  mcuport::PortResult result;
  {
    py::gil_scoped_release release;
    result = mcuport::port_model(model_json, options);
  }
  py::dict out;
  out["header"] = result.header;
  out["name"] = name;
  out["task"] = mcuport::to_string(result.task);
  out["n_features"] = result.n_features;
  out["n_classes"] = result.n_classes;
  out["numeric"] = mcuport::to_string(result.numeric);
  out["table_bytes"] = result.table_bytes;
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

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "mcuport's C++ core: model JSON -> validated IR -> C header";
  py::register_exception<mcuport::Error>(m, "ModelError", PyExc_ValueError);

  m.attr("__version__") = mcuport::kVersion;
  m.attr("FORMAT_VERSION") = mcuport::kFormatVersion;
  m.attr("FORMAT_NAME") = mcuport::kFormatName;

  m.def("port_model", &port_model, py::arg("model_json"), py::arg("name"),
        py::arg("numeric"), py::arg("target"),
        "Port a model document; returns a dict with the header and what was decided.");
  m.def(
      "validate",
      [](const std::string& model_json) {
        py::gil_scoped_release release;
        mcuport::load_model(model_json);
      },
      py::arg("model_json"), "Load and validate a model document; raises ModelError.");
  m.def(
      "dump", [](const std::string& model_json) { return mcuport::dump(mcuport::load_model(model_json)); },
      py::arg("model_json"), "A readable text form of the loaded model.");
  m.def("targets", []() {
    py::list out;
    for (const auto& t : mcuport::known_targets()) {
      py::dict d;
      d["name"] = t.name;
      d["description"] = t.description;
      d["has_fpu"] = t.has_fpu;
      d["default_numeric"] = mcuport::to_string(t.default_numeric);
      d["compiler"] = t.compiler;
      d["cflags"] = t.cflags;
      d["clock_hz"] = t.clock_hz;
      d["flash_bytes"] = t.flash_bytes;
      d["ram_bytes"] = t.ram_bytes;
      out.append(d);
    }
    return out;
  });
}
