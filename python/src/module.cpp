// mcuport._core: the C++ pipeline bound for Python. Errors are translated in one place:
// mcuport::Error -> mcuport.ModelError (a ValueError); anything else -> RuntimeError.
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mcuport/dump.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"
#include "mcuport/load.hpp"
#include "mcuport/lower_trees.hpp"
#include "mcuport/port.hpp"
#include "mcuport/save.hpp"
#include "mcuport/simulator.hpp"
#include "mcuport/target.hpp"

namespace py = pybind11;

namespace {

using Json = nlohmann::json;

// A model document built in Python (the exporters' dicts and lists, with numpy arrays where an
// exporter keeps one) as the JSON value json.dumps would write and the core's parser would read
// back: non-negative integers unsigned, negative ones signed, integers beyond 64 bits as doubles,
// floats as doubles; what only text is checked for (nesting, numbers beyond a double, UTF-8) is
// checked here, with the JSON path. A non-finite number is a ModelError, as json.dumps(
// allow_nan=False) refuses it. Stricter than json.dumps, which writes a key 1 as "1" and lists
// any numpy array: a key that is not a string, an array of strings or objects and any other type
// are TypeErrors (the exporters build none: such an error is mcuport's bug).
class DocumentConverter {
 public:
  Json convert(py::handle value) {
    try {
      return value_of(value, 0);
    } catch (Failure& failure) {
      const std::string path = failure.path.empty() ? "/" : failure.path;
      if (failure.type_error) throw py::type_error(failure.detail + " at " + path);
      throw mcuport::Error(path, failure.detail);
    }
  }

 private:
  struct Failure {
    std::string path;  // built on the way out, innermost token first
    std::string detail;
    bool type_error;
  };

  [[noreturn]] static void fail(std::string detail, bool type_error = false) {
    throw Failure{"", std::move(detail), type_error};
  }

  // Runs fill; a failure inside it gets the array index or object key in front of its path
  // (spelled only then: a large document has hundreds of thousands of elements).
  template <class Fill>
  static void within(std::size_t index, Fill&& fill) {
    try {
      fill();
    } catch (Failure& failure) {
      failure.path = "/" + std::to_string(index) + failure.path;
      throw;
    }
  }
  template <class Fill>
  static void within(const std::string& key, Fill&& fill) {
    try {
      fill();
    } catch (Failure& failure) {
      // the key as a JSON pointer token (RFC 6901: '~' and '/' escaped)
      failure.path = (Json::json_pointer() / key).to_string() + failure.path;
      throw;
    }
  }

  static std::string type_name(PyObject* object) {  // type(object).__name__, as json.dumps says
    return py::str(py::type::handle_of(py::handle(object)).attr("__name__")).cast<std::string>();
  }

  static Json number(double value) {
    if (!std::isfinite(value)) {
      fail("a number is not finite (" + std::to_string(value) +
           "): JSON has no NaN or Infinity, and every number of a model must be finite");
    }
    return Json(value);
  }

  static Json integer(py::handle value) {
    int overflow = 0;
    const long long signed_value = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow == 0) {
      if (signed_value == -1 && PyErr_Occurred()) throw py::error_already_set();
      if (signed_value >= 0) return Json(static_cast<uint64_t>(signed_value));
      return Json(static_cast<int64_t>(signed_value));
    }
    if (overflow > 0) {
      const unsigned long long unsigned_value = PyLong_AsUnsignedLongLong(value.ptr());
      if (!PyErr_Occurred()) return Json(static_cast<uint64_t>(unsigned_value));
      PyErr_Clear();
    }
    const double as_double = PyLong_AsDouble(value.ptr());  // as the parser reads such a literal
    if (as_double == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      fail("an integer is beyond the range of a double");
    }
    return Json(as_double);
  }

  template <class T>
  static Json array_elements(const T* data, const py::ssize_t* shape, py::ssize_t ndim,
                             std::size_t& at, int depth) {
    if (depth > mcuport::limits::kMaxJsonNesting) {
      fail("nesting deeper than " + std::to_string(mcuport::limits::kMaxJsonNesting) + " levels");
    }
    Json out = Json::array();
    auto& elements = out.get_ref<Json::array_t&>();
    elements.reserve(static_cast<std::size_t>(shape[0]));
    for (py::ssize_t i = 0; i < shape[0]; ++i) {
      if (ndim > 1) {
        within(static_cast<std::size_t>(i), [&] {
          elements.push_back(array_elements(data, shape + 1, ndim - 1, at, depth + 1));
        });
        continue;
      }
      within(static_cast<std::size_t>(i), [&] { elements.push_back(scalar(data[at++])); });
    }
    return out;
  }

  template <class T>
  static Json scalar(T element) {
    if constexpr (std::is_same_v<T, double>) {
      return number(element);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      if (element >= 0) return Json(static_cast<uint64_t>(element));
      return Json(element);
    } else {
      return Json(element);
    }
  }

  template <class T>
  static Json numpy_value(const py::array& array, int depth) {
    using Contiguous = py::array_t<T, py::array::c_style | py::array::forcecast>;
    const auto contiguous = Contiguous::ensure(array);
    if (!contiguous) throw py::error_already_set();
    if (contiguous.ndim() == 0) return scalar(*contiguous.data());
    std::size_t at = 0;
    return array_elements(contiguous.data(), contiguous.shape(), contiguous.ndim(), at, depth + 1);
  }

  static Json numpy_array(const py::array& array, int depth) {
    switch (array.dtype().kind()) {
      case 'f': return numpy_value<double>(array, depth);
      case 'i': return numpy_value<int64_t>(array, depth);
      case 'u': return numpy_value<uint64_t>(array, depth);
      case 'b': return numpy_value<bool>(array, depth);
      default:
        fail("a numpy array of dtype " + py::str(array.dtype()).cast<std::string>() +
                 " has no JSON value",
             true);
    }
  }

  Json value_of(py::handle value, int depth) {
    PyObject* object = value.ptr();
    if (object == Py_None) return Json(nullptr);
    if (PyBool_Check(object)) return Json(object == Py_True);
    if (PyLong_Check(object)) return integer(value);
    if (PyFloat_Check(object)) return number(PyFloat_AS_DOUBLE(object));
    if (PyUnicode_Check(object)) {
      Py_ssize_t size = 0;
      const char* text = PyUnicode_AsUTF8AndSize(object, &size);
      if (text == nullptr) {
        PyErr_Clear();
        fail("a string is not valid Unicode (it holds a lone surrogate)");
      }
      return Json(std::string(text, static_cast<std::size_t>(size)));
    }
    const bool is_array = py::isinstance<py::array>(value);
    if (is_array && py::reinterpret_borrow<py::array>(value).ndim() == 0) {
      return numpy_array(py::reinterpret_borrow<py::array>(value), depth);  // a scalar
    }
    if (depth >= mcuport::limits::kMaxJsonNesting) {
      fail("nesting deeper than " + std::to_string(mcuport::limits::kMaxJsonNesting) + " levels");
    }
    if (PyDict_Check(object)) {
      Json out = Json::object();
      PyObject* key = nullptr;
      PyObject* item = nullptr;
      Py_ssize_t position = 0;
      while (PyDict_Next(object, &position, &key, &item)) {
        if (!PyUnicode_Check(key)) {
          fail("a key of type " + type_name(key) + " (keys must be strings)", true);
        }
        Py_ssize_t size = 0;
        const char* text = PyUnicode_AsUTF8AndSize(key, &size);
        if (text == nullptr) {
          PyErr_Clear();
          fail("a key is not valid Unicode (it holds a lone surrogate)");
        }
        std::string name(text, static_cast<std::size_t>(size));
        within(name, [&] { out[name] = value_of(item, depth + 1); });
      }
      return out;
    }
    if (PyList_Check(object) || PyTuple_Check(object)) {
      // The stored items, as json.dumps reads them (not a subclass's __getitem__).
      const std::size_t n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(object));
      PyObject** items = PySequence_Fast_ITEMS(object);
      Json out = Json::array();
      auto& elements = out.get_ref<Json::array_t&>();
      elements.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        within(i, [&] { elements.push_back(value_of(items[i], depth + 1)); });
      }
      return out;
    }
    if (is_array) {
      return numpy_array(py::reinterpret_borrow<py::array>(value), depth);
    }
    fail("Object of type " + type_name(object) + " is not JSON serializable", true);
  }
};

mcuport::PortOptions port_options(const std::string& name,
                                  const std::optional<std::string>& numeric,
                                  const std::string& target,
                                  const std::optional<std::string>& layout,
                                  const std::optional<uint32_t>& proba_bits,
                                  const std::string& style, const std::string& classname) {
  mcuport::PortOptions options;
  options.name = name;
  options.style = mcuport::parse_style(style);
  options.classname = classname;
  options.target = target;
  if (numeric) options.numeric = mcuport::parse_numeric(*numeric);
  if (layout) options.layout = mcuport::parse_layout(*layout);
  options.proba_bits = proba_bits;
  return options;
}

py::dict port_dict(const mcuport::PortResult& result, const std::string& target);

// Runs a port without the GIL; its result as the dict mcuport.generate reads.
template <class Port>
py::dict port_result(Port&& port, const std::string& target) {
  mcuport::PortResult result;
  {
    py::gil_scoped_release release;
    result = port();
  }
  return port_dict(result, target);
}

py::dict port_model(const std::string& model_json, const std::string& name,
                    const std::optional<std::string>& numeric, const std::string& target,
                    const std::optional<std::string>& layout,
                    const std::optional<uint32_t>& proba_bits, const std::string& style,
                    const std::string& classname) {
  const mcuport::PortOptions options =
      port_options(name, numeric, target, layout, proba_bits, style, classname);
  return port_result([&] { return mcuport::port_model(model_json, options); }, target);
}

py::dict port_document(const py::object& document, const std::string& name,
                       const std::optional<std::string>& numeric, const std::string& target,
                       const std::optional<std::string>& layout,
                       const std::optional<uint32_t>& proba_bits, const std::string& style,
                       const std::string& classname) {
  const mcuport::PortOptions options =
      port_options(name, numeric, target, layout, proba_bits, style, classname);
  const Json value = DocumentConverter().convert(document);
  return port_result([&] { return mcuport::port_document(value, options); }, target);
}

py::dict port_dict(const mcuport::PortResult& result, const std::string& target) {
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
  m.def("port_document", &port_document, py::arg("document"), py::arg("name"),
        py::arg("numeric"), py::arg("target"), py::arg("layout") = py::none(),
        py::arg("proba_bits") = py::none(), py::arg("style") = "c", py::arg("classname") = "",
        "As port_model, from the document as Python values (dicts, lists, numbers, strings, "
        "None, numpy arrays) rather than JSON text.");
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
      d["high_word_multiply"] = t.high_word_multiply;  // and LowerOptions::high_word_terms
      // What a split of fast tree code takes: the least (port() refuses by it), the typical (the
      // default layout decides by it).
      for (const auto& [key, bytes] : {std::pair{"fast_split_bytes_fixed", t.fast_split_bytes_fixed},
                                       std::pair{"fast_split_bytes_float", t.fast_split_bytes_float}}) {
        py::dict split;
        split["least"] = bytes.least;
        split["typical"] = bytes.typical;
        d[key] = split;
      }
      out.append(d);
    }
    return out;
  });
}
