// JsonCursor: typed, path-aware reads of a JSON document (see json_cursor.hpp).
#include "json_cursor.hpp"

#include <cmath>
#include <cstdint>
#include <set>

#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

namespace {

// RFC 6901: '~' and '/' inside a key are escaped as ~0 and ~1.
std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string shorten(std::string text, std::size_t max_chars = 60) {
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return text;
}

}  // namespace

const char* json_type_name(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number_float()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return "a value of unknown type";
}

JsonCursor::JsonCursor(const nlohmann::json& value, std::string path)
    : value_(&value), path_(path.empty() ? "/" : std::move(path)) {}

void JsonCursor::fail(const std::string& detail) const { throw Error(path_, detail); }

std::string JsonCursor::describe() const {
  if (value_->is_array()) {
    const std::size_t n = value_->size();
    return "an array of " + std::to_string(n) + (n == 1 ? " element" : " elements");
  }
  if (value_->is_object()) return "an object";
  // ensure_ascii and replace: any bytes a hostile document holds are printed safely.
  return shorten(value_->dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
}

void JsonCursor::expect_object() const {
  if (!value_->is_object()) fail("expected an object, got " + describe());
}

void JsonCursor::expect_keys(std::initializer_list<const char*> allowed) const {
  expect_object();
  for (const auto& item : value_->items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (!known) {
      std::string list;
      for (const char* key : allowed) list += std::string(list.empty() ? "" : ", ") + key;
      JsonCursor(item.value(), (path_ == "/" ? "" : path_) + "/" + escape_pointer_token(item.key()))
          .fail("unknown key " +
                shorten(nlohmann::json(item.key()).dump(-1, ' ', true,
                                                        nlohmann::json::error_handler_t::replace),
                        40) +
                " (allowed here: " + list + ")");
    }
  }
}

JsonCursor JsonCursor::at(const char* key) const {
  auto found = find(key);
  if (!found) fail(std::string("missing required key \"") + key + "\"");
  return *found;
}

std::optional<JsonCursor> JsonCursor::find(const char* key) const {
  expect_object();
  auto it = value_->find(key);
  if (it == value_->end()) return std::nullopt;
  return JsonCursor(*it, (path_ == "/" ? "" : path_) + "/" + escape_pointer_token(key));
}

std::size_t JsonCursor::expect_array(std::size_t min_size, std::size_t max_size) const {
  if (!value_->is_array()) fail("expected an array, got " + describe());
  const std::size_t size = value_->size();
  if (size < min_size || size > max_size) {
    fail("expected an array of " + std::to_string(min_size) + " to " + std::to_string(max_size) +
         " elements, got " + std::to_string(size));
  }
  return size;
}

std::size_t JsonCursor::expect_array_of_size(std::size_t size) const {
  if (!value_->is_array()) fail("expected an array, got " + describe());
  if (value_->size() != size) {
    fail("expected an array of " + std::to_string(size) + " elements, got " +
         std::to_string(value_->size()));
  }
  return size;
}

JsonCursor JsonCursor::at(std::size_t index) const {
  return JsonCursor((*value_)[index], (path_ == "/" ? "" : path_) + "/" + std::to_string(index));
}

int64_t JsonCursor::as_int(int64_t lo, int64_t hi) const {
  int64_t result = 0;
  // nlohmann counts unsigned numbers as integers too: one above INT64_MAX would wrap.
  const bool beyond_int64 = value_->is_number_unsigned() &&
                            value_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX);
  if (value_->is_number_integer() && !beyond_int64) {
    result = value_->get<int64_t>();
  } else if (beyond_int64) {
    fail("expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
         describe());
  } else {
    fail("expected an integer, got " + std::string(json_type_name(*value_)) + " " + describe());
  }
  if (result < lo || result > hi) {
    fail("expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
         describe());
  }
  return result;
}

double JsonCursor::as_finite() const {
  if (!value_->is_number()) {
    fail("expected a number, got " + std::string(json_type_name(*value_)) + " " + describe());
  }
  const double result = value_->get<double>();
  if (!std::isfinite(result)) fail("expected a finite number, got " + describe());
  return result;
}

std::string JsonCursor::as_string(std::size_t max_bytes) const {
  if (!value_->is_string()) {
    fail("expected a string, got " + std::string(json_type_name(*value_)) + " " + describe());
  }
  const auto& text = value_->get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    fail("string of " + std::to_string(text.size()) + " bytes is longer than the limit of " +
         std::to_string(max_bytes));
  }
  return text;
}

std::vector<int32_t> JsonCursor::as_int_array(std::size_t size, int64_t lo, int64_t hi) const {
  expect_array_of_size(size);
  std::vector<int32_t> out(size);
  for (std::size_t i = 0; i < size; ++i) {
    const auto& element = (*value_)[i];
    // nlohmann stores non-negative integers as unsigned: only those above INT64_MAX would wrap.
    if (element.is_number_integer() &&
        !(element.is_number_unsigned() &&
          element.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      const auto v = element.get<int64_t>();
      if (v >= lo && v <= hi) {
        out[i] = static_cast<int32_t>(v);
        continue;
      }
    }
    at(i).as_int(lo, hi);  // reports the error with the element's path
    MCUPORT_ASSERT(false);
  }
  return out;
}

std::vector<double> JsonCursor::as_finite_array(std::size_t size) const {
  expect_array_of_size(size);
  std::vector<double> out(size);
  for (std::size_t i = 0; i < size; ++i) {
    const auto& element = (*value_)[i];
    if (element.is_number()) {
      const double v = element.get<double>();
      if (std::isfinite(v)) {
        out[i] = v;
        continue;
      }
    }
    at(i).as_finite();
    MCUPORT_ASSERT(false);
  }
  return out;
}

std::vector<double> JsonCursor::as_finite_matrix(std::size_t rows, std::size_t columns) const {
  expect_array_of_size(rows);
  // Every row's length before the reserve: memory follows what the document holds, not what its
  // sizes claim (1024 empty rows of a 65535-wide PCA would reserve 512 MB).
  for (std::size_t r = 0; r < rows; ++r) {
    const auto& row = (*value_)[r];
    if (!row.is_array() || row.size() != columns) at(r).expect_array_of_size(columns);
  }
  std::vector<double> out;
  out.reserve(rows * columns);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::vector<double> row = at(r).as_finite_array(columns);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

nlohmann::json parse_document(const std::string& text) {
  if (text.size() > limits::kMaxJsonBytes) {
    throw Error("", "model document of " + std::to_string(text.size()) +
                        " bytes is larger than the limit of " +
                        std::to_string(limits::kMaxJsonBytes));
  }
  // nlohmann's parser recurses once per nesting level: bound the depth before it runs.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limits::kMaxJsonNesting) {
        throw Error("", "malformed model JSON: nesting deeper than " +
                            std::to_string(limits::kMaxJsonNesting) + " levels at byte " +
                            std::to_string(i));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw Error("", std::string("malformed model JSON: ") + e.what());
  }
}

}  // namespace mcuport::detail
