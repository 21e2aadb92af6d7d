// Building blocks of emitted C: a template renderer with named placeholders that fails on a
// missing or unused key, and a writer for constant tables.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "c_names.hpp"
#include "mcuport/target.hpp"

namespace mcuport::codegen {

using TemplateValues = std::map<std::string, std::string>;

// Replaces every {{key}} in `text` from `values`, else from `shared`. Throws InternalError if a
// key in the text has no value or one of `values` is never used: a template and its caller
// cannot drift apart silently. (`shared` holds placeholders every template may use or not.)
std::string render(const std::string& text, const TemplateValues& values,
                   const TemplateValues& shared = {});

// One constant table of a header: `static const type name[dims...]`.
struct Table {
  std::string type;         // element type: "int16_t", "float", ... ("char" for strings)
  std::string name;
  std::size_t dimensions;   // 1 or 2
  bool strings = false;     // an array of string literals (labels, feature names)
  std::string comment;
  std::string declarator;   // "[3]" or "[3][4]"
  std::string body;         // the initializer lines between the braces
  std::vector<std::string> string_values;  // the literals of a string table
  uint64_t bytes = 0;       // as counted by TableWriter::bytes()
};

// Collects constant tables and counts their bytes; renders them for where the target keeps
// constants (see const_storage.hpp).
class TableWriter {
 public:
  // A `static const type name[n]` table; values as C literals; element_bytes for the count.
  void add(const std::string& type, unsigned element_bytes, const std::string& name,
           const std::vector<std::string>& values, const std::string& comment);
  void add_2d(const std::string& type, unsigned element_bytes, const std::string& name,
              std::size_t rows, std::size_t columns, const std::vector<std::string>& values,
              const std::string& comment);
  // A table of strings, `static const char *const name[n]`, from C string literals. Not counted
  // in bytes() (the predict path never reads one).
  void add_strings(const std::string& name, const std::vector<std::string>& literals,
                   const std::string& comment);
  // Adds the tables of `other`, in order, after these.
  void append(const TableWriter& other);
  // `macro`: the header's macro prefix, whose <macro>_ROM places a table in flash (Progmem).
  std::string text(ConstStorage storage, const std::string& macro) const;
  const std::vector<Table>& tables() const { return tables_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::vector<Table> tables_;
  uint64_t bytes_ = 0;
};

template <typename T>
std::vector<std::string> integer_literals(const std::vector<T>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const T& v : values) {
    // INT16_MIN-style spellings avoid `-32768` being `-(32768)` of a wider type on 16-bit ints.
    if constexpr (std::is_signed_v<T>) {
      if (static_cast<int64_t>(v) == INT16_MIN) {
        out.push_back("INT16_MIN");
        continue;
      }
      if (static_cast<int64_t>(v) == INT32_MIN) {
        out.push_back("INT32_MIN");
        continue;
      }
    }
    out.push_back(std::to_string(v));
  }
  return out;
}

std::vector<std::string> float_literals(const std::vector<float>& values);

// Where a table of float32 constants comes from in the model document, so that a constant
// float32 cannot hold is refused at its field (rounded_float_literals). Element i of the table
// is, with `columns` the table's row width:
//   Whole:      the field itself (a table derived from it, whose elements are not its elements);
//   Elements:   path/i (a vector);
//   Rows:       path/(i / columns) (rows of the field, their columns composed with pipeline
//               stages of another width);
//   Matrix:     path/(i / columns)/(i % columns);
//   Transposed: path/(i % columns)/(i / columns) (the field's columns are the table's rows).
// `note` says how the values come from the field where they are not its own numbers:
// " (the field's Cholesky factor)", " (this field with the pipeline's stages composed in)".
struct FieldOrigin {
  enum class Layout { Whole, Elements, Rows, Matrix, Transposed };
  FieldOrigin(std::string path_, Layout layout_ = Layout::Whole, std::size_t columns_ = 0,
              std::string note_ = "")
      : path(std::move(path_)), layout(layout_), columns(columns_), note(std::move(note_)) {}

  std::string path;
  Layout layout;
  std::size_t columns;
  std::string note;

  std::string element(std::size_t i) const;
};

// float64 values rounded to nearest float32, as literals; Error at origin.element(i) where
// float32 cannot hold value i (rounded_float_literal).
std::vector<std::string> rounded_float_literals(const std::vector<double>& values,
                                                const FieldOrigin& origin);
std::vector<std::string> double_literals(const std::vector<double>& values);

// Statements (each line starting with `indent`) that copy the int16 codes from[0 .. n) into the
// int32 words to[0 .. n) and set to[n .. padded) to zero: four codes a turn through two
// pointers, the rest written out. Thumb-1 loads an int16 at an offset in two instructions (an
// LDRSH takes only a register offset), so gcc -Os's loop over an index took seven a code and
// this one takes four. `from` and `to` are expressions of type `const int16_t*` and `int32_t*`
// (arrays); the statements declare `src` and `dst` in a block of their own.
std::string widen_codes(const std::string& from, const std::string& to, uint32_t n,
                        uint32_t padded, const std::string& indent);

}  // namespace mcuport::codegen
