// JsonCursor: typed, path-aware reads of a JSON document (see json_cursor.hpp).
#include "json_cursor.hpp"

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"
#include "mcuport/text.hpp"

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
  // A JSON value built in memory (load_document) can hold what text cannot; dump prints null.
  if (value_->is_number_float() && !std::isfinite(value_->get<double>())) {
    const double v = value_->get<double>();
    return std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }
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
  // An integer literal beyond uint64 is read as a double: it is out of range, not a fraction.
  const bool huge_integral = value_->is_number_float() &&
                             std::fabs(value_->get<double>()) >= 9.2233720368547758e18 &&
                             std::isfinite(value_->get<double>());
  if (value_->is_number_integer() && !beyond_int64) {
    result = value_->get<int64_t>();
  } else if (beyond_int64 || huge_integral) {
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

namespace {

// Builds the document (as nlohmann's own DOM parser does: each value placed in the array or under
// the key of the container being built), and keeps the JSON pointer of the value being read, so
// that a syntax error or a number beyond the double range names the place where the parser
// stopped ("(/params/trees/0/threshold/3) ... 1e999"), not only a line and column.
class PointerTrackingBuilder {
 public:
  using json = nlohmann::json;

  explicit PointerTrackingBuilder(json& root) : root_(root) {}

  bool null() { return value_done(place(nullptr)); }
  bool boolean(bool v) { return value_done(place(v)); }
  bool number_integer(json::number_integer_t v) { return value_done(place(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value_done(place(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    return value_done(place(v));
  }
  bool string(json::string_t& v) { return value_done(place(std::move(v))); }
  bool binary(json::binary_t& v) { return value_done(place(json::binary(std::move(v)))); }
  bool start_object(std::size_t /*n*/) {
    json* object = place(json::value_t::object);
    frames_.push_back({false, 0, false, {}, object});
    return true;
  }
  // A key written twice in one object is an error (a DOM would keep the last value silently, so
  // two readers of one file could see different models). It names the second occurrence, and is
  // found in the object being built: no copy of its keys.
  bool key(json::string_t& k) {
    Frame& frame = frames_.back();
    frame.has_key = true;
    frame.key = k;
    // One lookup; try_emplace does not move from k where the key is already there.
    const auto [slot, inserted] =
        frame.container->get_ref<json::object_t&>().try_emplace(std::move(k));
    if (!inserted) {
      throw Error(pointer(), "duplicate key " + escape_unprintable(shorten("\"" + k + "\"")) +
                                 ": each key may appear once in an object");
    }
    member_ = &slot->second;
    return true;
  }
  bool end_object() {
    frames_.pop_back();
    return value_done(true);
  }
  bool start_array(std::size_t /*n*/) {
    json* array = place(json::value_t::array);
    frames_.push_back({true, 0, false, {}, array});
    return true;
  }
  bool end_array() {
    frames_.pop_back();
    return value_done(true);
  }

  template <class Exception>
  bool parse_error(std::size_t /*position*/, const std::string& last_token, const Exception& e) {
    // 406 is nlohmann's "number overflow": a literal such as 1e999 that no double holds.
    if constexpr (std::is_same_v<Exception, json::out_of_range>) {
      if (e.id == 406) {
        throw Error(pointer(), "number " + escape_unprintable(shorten(last_token)) +
                                   " is beyond the range of a double (every number must be "
                                   "finite; JSON has no infinity)");
      }
    }
    std::string detail = "malformed model JSON: " + escape_unprintable(e.what());
    // last_token holds the text read since the previous token: "2, N" for a NaN element.
    std::string word = last_token.substr(last_token.find_last_of(" \t\r\n,:[{") + 1);
    if (!word.empty() && word[0] == '-') word.erase(0, 1);
    const auto starts = [&](const char* prefix) { return word.rfind(prefix, 0) == 0; };
    if (starts("N") || starts("I") || starts("na") || starts("in")) {
      detail += " (JSON has no NaN or Infinity: every number must be finite)";
    }
    throw Error(pointer(), detail);
  }

 private:
  struct Frame {
    bool is_array;
    std::size_t index;  // arrays: the element being read
    bool has_key;       // objects: a key has been read and its value not yet finished
    std::string key;
    json* container;  // the array or object being built (only the innermost one changes)
  };

  // Puts a value where the document is at: the root, the end of the array being built, or under
  // the key just read, and returns it. A container is then filled in place through that pointer:
  // only the innermost container being built ever changes, so the ones around it (and the
  // pointers to them) stay where they are until it is finished.
  template <class Value>
  json* place(Value&& value) {
    if (frames_.empty()) {
      root_ = json(std::forward<Value>(value));
      return &root_;
    }
    json& container = *frames_.back().container;
    if (container.is_array()) {
      container.push_back(json(std::forward<Value>(value)));
      return &container.back();
    }
    *member_ = json(std::forward<Value>(value));
    return member_;
  }

  bool value_done(bool ok) {
    if (!frames_.empty()) {
      Frame& parent = frames_.back();
      if (parent.is_array) {
        ++parent.index;
      } else {
        parent.has_key = false;
      }
    }
    return ok;
  }

  // The pointer of the value being read; "" before the top-level value has begun.
  std::string pointer() const {
    std::string out;
    for (const Frame& frame : frames_) {
      if (frame.is_array) {
        out += "/" + std::to_string(frame.index);
      } else if (frame.has_key) {
        out += "/" + escape_pointer_token(frame.key);
      } else {
        break;
      }
    }
    return out.empty() && !frames_.empty() ? "/" : out;
  }

  json& root_;
  json* member_ = nullptr;  // the value under the key just read
  std::vector<Frame> frames_;
};

}  // namespace

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
  nlohmann::json document;
  PointerTrackingBuilder builder(document);
  try {
    nlohmann::json::sax_parse(text, &builder);
  } catch (const nlohmann::json::exception& e) {  // the DOM builder's own (excessive sizes)
    throw Error("", "malformed model JSON: " + escape_unprintable(e.what()));
  }
  return document;
}

}  // namespace mcuport::detail
