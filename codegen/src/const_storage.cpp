// Table reads for targets whose constants live in flash behind their own instructions (see
// const_storage.hpp).
#include "const_storage.hpp"

#include <map>

#include "mcuport/error.hpp"

namespace mcuport::codegen {

namespace {

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The flash read of an element of type `type` at address `address`, as an expression of that
// type. 64-bit values and doubles go through the helpers of const_storage_support.
std::string flash_read(const Table& table, const std::string& address, const std::string& prefix) {
  if (table.strings) return "(const char *)pgm_read_ptr(" + address + ")";
  static const std::map<std::string, std::string> reads = {
      {"uint8_t", "pgm_read_byte({})"},          {"int8_t", "(int8_t)pgm_read_byte({})"},
      {"uint16_t", "pgm_read_word({})"},         {"int16_t", "(int16_t)pgm_read_word({})"},
      {"uint32_t", "pgm_read_dword({})"},        {"int32_t", "(int32_t)pgm_read_dword({})"},
      {"float", "pgm_read_float({})"},           {"int64_t", "@_rom_int64({})"},
      {"uint64_t", "@_rom_uint64({})"},          {"double", "@_rom_double({})"},
  };
  const auto it = reads.find(table.type);
  if (it == reads.end()) {
    internal_error(__FILE__, __LINE__, "no flash read for tables of " + table.type);
  }
  std::string out = it->second;
  out.replace(out.find("{}"), 2, address);
  const std::size_t at = out.find('@');
  if (at != std::string::npos) out.replace(at, 1, prefix);
  return out;
}

// The index expression starting at code[open] == '[': returns the position after its ']'.
std::size_t matching_bracket(const std::string& code, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < code.size(); ++i) {
    if (code[i] == '[') ++depth;
    if (code[i] == ']' && --depth == 0) return i + 1;
  }
  internal_error(__FILE__, __LINE__, "unbalanced [ in emitted code");
}

class Rewriter {
 public:
  Rewriter(const std::vector<Table>& tables, const std::string& prefix) : prefix_(prefix) {
    for (const Table& table : tables) by_name_[table.name] = &table;
  }

  std::string rewrite(const std::string& code) const {
    std::string out;
    std::size_t i = 0;
    while (i < code.size()) {
      if (code.compare(i, 2, "/*") == 0) {
        const std::size_t end = code.find("*/", i + 2);
        MCUPORT_ASSERT(end != std::string::npos);
        out.append(code, i, end + 2 - i);
        i = end + 2;
      } else if (code.compare(i, 2, "//") == 0) {
        const std::size_t end = code.find('\n', i);
        out.append(code, i, end == std::string::npos ? std::string::npos : end - i);
        i = end == std::string::npos ? code.size() : end;
      } else if (code[i] == '"' || code[i] == '\'') {
        std::size_t end = i + 1;
        while (end < code.size() && code[end] != code[i]) end += code[end] == '\\' ? 2 : 1;
        out.append(code, i, end + 1 - i);
        i = end + 1;
      } else if (is_identifier_char(code[i]) && (i == 0 || !is_identifier_char(code[i - 1]))) {
        std::size_t end = i;
        while (end < code.size() && is_identifier_char(code[end])) ++end;
        const std::string word = code.substr(i, end - i);
        const auto table = by_name_.find(word);
        if (table == by_name_.end()) {
          out += word;
          i = end;
        } else {
          i = read(code, i, end, *table->second, out);
        }
      } else {
        out += code[i++];
      }
    }
    return out;
  }

 private:
  // Rewrites the read of `table` whose name spans code[begin, end); returns where it stops.
  std::size_t read(const std::string& code, std::size_t begin, std::size_t end,
                   const Table& table, std::string& out) const {
    std::size_t before = begin;
    while (before > 0 && code[before - 1] == ' ') --before;
    std::string element = table.name;
    std::size_t pos = end;
    for (std::size_t d = 0; d < table.dimensions; ++d) {
      if (pos >= code.size() || code[pos] != '[') {
        internal_error(__FILE__, __LINE__,
                       "table " + table.name + " is used without all its indices: a pointer "
                       "into a table cannot be read on targets that keep tables in flash");
      }
      const std::size_t close = matching_bracket(code, pos);
      element += "[" + rewrite(code.substr(pos + 1, close - pos - 2)) + "]";
      pos = close;
    }
    const bool address_of =
        before > 0 && code[before - 1] == '&' && !(before > 1 && code[before - 2] == '&');
    if (address_of || (pos < code.size() && code[pos] == '[')) {
      internal_error(__FILE__, __LINE__, "table " + table.name + " is used other than by reading "
                                         "one element");
    }
    out += flash_read(table, "&" + element, prefix_);
    return pos;
  }

  std::string prefix_;
  std::map<std::string, const Table*> by_name_;
};

}  // namespace

std::string place_table_reads(const std::string& code, const std::vector<Table>& tables,
                              ConstStorage storage, const std::string& prefix) {
  if (storage == ConstStorage::Ram) return code;
  return Rewriter(tables, prefix).rewrite(code);
}

std::string const_storage_support(const std::string& code, ConstStorage storage,
                                  const std::string& prefix) {
  if (storage == ConstStorage::Ram) return "";
  std::string out =
      "\n/* Constant tables live in flash (PROGMEM) and are read with pgm_read_* (avr-libc). */\n"
      "#include <avr/pgmspace.h>\n"
      "#define MCUPORT_FX_ROM PROGMEM\n"
      "#define MCUPORT_FX_ROM_U32(address) pgm_read_dword(address)\n";
  for (const char* type : {"int64", "uint64", "double"}) {
    const std::string helper = prefix + "_rom_" + type;
    if (code.find(helper + "(") == std::string::npos) continue;
    const std::string c_type = std::string(type) == "double" ? "double" : std::string(type) + "_t";
    out += "static inline " + c_type + " " + helper + "(const " + c_type + " *address) {\n"
           "    " + c_type + " value;\n"
           "    memcpy_P(&value, address, sizeof value);\n"
           "    return value;\n"
           "}\n";
  }
  return out;
}

}  // namespace mcuport::codegen
