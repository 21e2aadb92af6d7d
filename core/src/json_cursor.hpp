// A read-only view of one place in a JSON document that knows its JSON pointer, so that every
// validation error names the exact field and the offending value. Internal to the loader.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcuport::detail {

class JsonCursor {
 public:
  JsonCursor(const nlohmann::json& value, std::string path);

  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& detail) const;
  // The value, shortened, for messages: `got "abc"`, `got -3`.
  std::string describe() const;

  // Objects.
  void expect_object() const;
  void expect_keys(std::initializer_list<const char*> allowed) const;  // rejects unknown keys
  JsonCursor at(const char* key) const;                                // required key
  std::optional<JsonCursor> find(const char* key) const;               // optional key

  // Arrays.
  std::size_t expect_array(std::size_t min_size, std::size_t max_size) const;
  std::size_t expect_array_of_size(std::size_t size) const;
  JsonCursor at(std::size_t index) const;

  // Scalars.
  bool is_null() const { return value_->is_null(); }
  int64_t as_int(int64_t lo, int64_t hi) const;
  double as_finite() const;
  std::string as_string(std::size_t max_bytes) const;

  // Whole numeric arrays, fast: no per-element path strings unless an element is bad.
  std::vector<int32_t> as_int_array(std::size_t size, int64_t lo, int64_t hi) const;
  std::vector<double> as_finite_array(std::size_t size) const;
  // rows x columns finite numbers as an array of arrays, returned row-major.
  std::vector<double> as_finite_matrix(std::size_t rows, std::size_t columns) const;

 private:
  const nlohmann::json* value_;
  std::string path_;
};

// Parses text into a document, with a nesting limit checked before the (recursive) parser runs.
nlohmann::json parse_document(const std::string& text);

const char* json_type_name(const nlohmann::json& value);

}  // namespace mcuport::detail
