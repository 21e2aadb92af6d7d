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

// The flash read of an element of `table` at `address`, as an expression of its type: the
// header's own macro (<P>_ROM_I16 ...) or, for 64-bit values and doubles, its helper function.
std::string flash_read(const Table& table, const std::string& address, const std::string& prefix,
                       const std::string& macro) {
  if (table.strings) return macro + "_ROM_PTR(" + address + ")";
  static const std::map<std::string, std::string> reads = {
      {"uint8_t", "_ROM_U8"},   {"int8_t", "_ROM_I8"},   {"uint16_t", "_ROM_U16"},
      {"int16_t", "_ROM_I16"},  {"uint32_t", "_ROM_U32"}, {"int32_t", "_ROM_I32"},
      {"float", "_ROM_FLOAT"},  {"int64_t", "_rom_int64"}, {"uint64_t", "_rom_uint64"},
      {"double", "_rom_double"},
  };
  const auto it = reads.find(table.type);
  if (it == reads.end()) {
    internal_error(__FILE__, __LINE__, "no flash read for tables of " + table.type);
  }
  const bool helper = it->second[1] == 'r';
  return (helper ? prefix : macro) + it->second + "(" + address + ")";
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

// The opening line of a block only Arm cores with the DSP extension compile (emit_header.cpp).
const std::string kSimdBlock = "#if MCUPORT_SIMD32\n";

class Rewriter {
 public:
  Rewriter(const std::vector<Table>& tables, const std::string& prefix, const std::string& macro)
      : prefix_(prefix), macro_(macro) {
    for (const Table& table : tables) by_name_[table.name] = &table;
  }

  std::string rewrite(const std::string& code) const {
    std::string out;
    std::size_t i = 0;
    while (i < code.size()) {
      if (code.compare(i, kSimdBlock.size(), kSimdBlock) == 0 && (i == 0 || code[i - 1] == '\n')) {
        // Arm DSP code: compiled only on cores that keep constants in the data address space,
        // never on a PROGMEM target, so it may read tables through their addresses.
        const std::size_t end = code.find("\n#else\n", i);
        MCUPORT_ASSERT(end != std::string::npos);
        out.append(code, i, end - i);
        i = end;
      } else if (code.compare(i, 2, "/*") == 0) {
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
    out += flash_read(table, "&" + element, prefix_, macro_);
    return pos;
  }

  std::string prefix_;
  std::string macro_;
  std::map<std::string, const Table*> by_name_;
};

}  // namespace

std::string place_table_reads(const std::string& code, const std::vector<Table>& tables,
                              ConstStorage storage, const std::string& prefix,
                              const std::string& macro) {
  if (storage == ConstStorage::Ram) return code;
  return Rewriter(tables, prefix, macro).rewrite(code);
}

std::string const_storage_support(const std::string& code, ConstStorage storage,
                                  const std::string& prefix, const std::string& macro) {
  if (storage == ConstStorage::Ram) return "";
  const std::string& P = macro;
  std::string out =
      "\n/* Constant tables live in flash (PROGMEM) and are read with pgm_read_* (avr-libc). Built\n"
      " * for another processor (a host test, say), the same header reads them as plain data. */\n"
      "#ifdef __AVR__\n"
      "#include <avr/pgmspace.h>\n"
      "#define " + P + "_ROM PROGMEM\n"
      "#define " + P + "_ROM_U8(address) pgm_read_byte(address)\n"
      "#define " + P + "_ROM_I8(address) ((int8_t)pgm_read_byte(address))\n"
      "#define " + P + "_ROM_U16(address) pgm_read_word(address)\n"
      "#define " + P + "_ROM_I16(address) ((int16_t)pgm_read_word(address))\n"
      "#define " + P + "_ROM_U32(address) pgm_read_dword(address)\n"
      "#define " + P + "_ROM_I32(address) ((int32_t)pgm_read_dword(address))\n"
      "#define " + P + "_ROM_FLOAT(address) pgm_read_float(address)\n"
      "#define " + P + "_ROM_PTR(address) ((const char *)pgm_read_ptr(address))\n"
      "#define " + P + "_ROM_COPY(to, from, n) memcpy_P(to, from, n)\n"
      "#ifndef MCUPORT_FX_ROM\n"
      "#define MCUPORT_FX_ROM PROGMEM\n"
      "#define MCUPORT_FX_ROM_U32(address) pgm_read_dword(address)\n"
      "#endif\n"
      "#else\n"
      "#include <string.h>\n"
      "#define " + P + "_ROM\n";
  for (const char* suffix : {"U8", "I8", "U16", "I16", "U32", "I32", "FLOAT", "PTR"}) {
    out += "#define " + P + "_ROM_" + suffix + "(address) (*(address))\n";
  }
  out += "#define " + P + "_ROM_COPY(to, from, n) memcpy(to, from, n)\n#endif\n";
  for (const char* type : {"int64", "uint64", "double"}) {
    const std::string helper = prefix + "_rom_" + type;
    if (code.find(helper + "(") == std::string::npos) continue;
    const std::string c_type = std::string(type) == "double" ? "double" : std::string(type) + "_t";
    out += "static inline " + c_type + " " + helper + "(const " + c_type + " *address) {\n"
           "    " + c_type + " value;\n"
           "    " + P + "_ROM_COPY(&value, address, sizeof value);\n"
           "    return value;\n"
           "}\n";
  }
  return out;
}

}  // namespace mcuport::codegen
