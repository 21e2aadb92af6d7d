// Template rendering and constant tables (see c_writer.hpp).
#include "c_writer.hpp"

#include <cmath>
#include <set>

#include "mcuport/error.hpp"

namespace mcuport::codegen {

std::string render(const std::string& text, const TemplateValues& values,
                   const TemplateValues& shared) {
  std::string out;
  std::set<std::string> used;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    const std::size_t close = text.find("}}", open);
    MCUPORT_ASSERT(close != std::string::npos);
    const std::string key = text.substr(open + 2, close - open - 2);
    auto it = values.find(key);
    if (it == values.end()) {
      it = shared.find(key);  // compared with shared.end() only when it points into `shared`
      if (it == shared.end()) {
        internal_error(__FILE__, __LINE__, "template key {{" + key + "}} has no value");
      }
    }
    out.append(text, pos, open - pos);
    out += it->second;
    used.insert(key);
    pos = close + 2;
  }
  for (const auto& entry : values) {
    if (used.count(entry.first) == 0) {
      internal_error(__FILE__, __LINE__, "template value " + entry.first + " is never used");
    }
  }
  return out;
}

namespace {

// Values wrapped in lines of at most ~100 columns, indented by 4.
void append_values(std::string& out, const std::vector<std::string>& values, std::size_t begin,
                   std::size_t end, const std::string& indent) {
  std::string line = indent;
  for (std::size_t i = begin; i < end; ++i) {
    const std::string item = values[i] + (i + 1 < end ? "," : "");
    if (line.size() > indent.size() && line.size() + 1 + item.size() > 100) {
      out += line + "\n";
      line = indent;
    }
    line += (line.size() > indent.size() ? " " : "") + item;
  }
  if (line.size() > indent.size()) out += line + "\n";
}

}  // namespace

void TableWriter::add(const std::string& type, unsigned element_bytes, const std::string& name,
                      const std::vector<std::string>& values, const std::string& comment) {
  MCUPORT_ASSERT(!values.empty());
  Table table{type, name, 1, false, comment, "[" + std::to_string(values.size()) + "]", "", {},
              static_cast<uint64_t>(element_bytes) * values.size()};
  append_values(table.body, values, 0, values.size(), "    ");
  tables_.push_back(std::move(table));
  bytes_ += static_cast<uint64_t>(element_bytes) * values.size();
}

void TableWriter::append(const TableWriter& other) {
  tables_.insert(tables_.end(), other.tables_.begin(), other.tables_.end());
  bytes_ += other.bytes_;
}

void TableWriter::add_2d(const std::string& type, unsigned element_bytes, const std::string& name,
                         std::size_t rows, std::size_t columns,
                         const std::vector<std::string>& values, const std::string& comment) {
  MCUPORT_ASSERT(rows > 0 && columns > 0 && values.size() == rows * columns);
  Table table{type, name, 2, false, comment,
              "[" + std::to_string(rows) + "][" + std::to_string(columns) + "]", "", {},
              static_cast<uint64_t>(element_bytes) * values.size()};
  for (std::size_t r = 0; r < rows; ++r) {
    std::string row;
    append_values(row, values, r * columns, (r + 1) * columns, "");
    // Rows are short in practice; keep each on one line in braces.
    std::string joined;
    for (char c : row) joined += c == '\n' ? ' ' : c;
    while (!joined.empty() && joined.back() == ' ') joined.pop_back();
    table.body += "    {" + joined + "}" + (r + 1 < rows ? "," : "") + "\n";
  }
  tables_.push_back(std::move(table));
  bytes_ += static_cast<uint64_t>(element_bytes) * values.size();
}

void TableWriter::add_strings(const std::string& name, const std::vector<std::string>& literals,
                              const std::string& comment) {
  MCUPORT_ASSERT(!literals.empty());
  Table table{"char", name, 1, true, comment, "[" + std::to_string(literals.size()) + "]", "",
              literals, 0};
  append_values(table.body, literals, 0, literals.size(), "    ");
  tables_.push_back(std::move(table));
}

std::string TableWriter::text(ConstStorage storage, const std::string& macro) const {
  const bool progmem = storage == ConstStorage::Progmem;
  const std::string place = progmem ? " " + macro + "_ROM" : "";
  std::string out;
  for (const Table& table : tables_) {
    out += "/* " + table.comment + (progmem ? " (in flash)" : "") + " */\n";
    std::string body = table.body;
    if (table.strings && progmem) {
      // Each string in flash, then the table of their flash addresses, also in flash.
      std::vector<std::string> names;
      for (std::size_t i = 0; i < table.string_values.size(); ++i) {
        names.push_back(table.name + "_" + std::to_string(i));
        out += "static const char " + names.back() + "[]" + place + " = " +
               table.string_values[i] + ";\n";
      }
      body.clear();
      append_values(body, names, 0, names.size(), "    ");
    }
    const std::string type = table.strings ? "char *const" : table.type;
    out += "static const " + type + " " + table.name + table.declarator + place + " = {\n";
    out += body;
    out += "};\n\n";
  }
  return out;
}

std::vector<std::string> float_literals(const std::vector<float>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (float v : values) out.push_back(float_literal(v));
  return out;
}

std::string FieldOrigin::element(std::size_t i) const {
  switch (layout) {
    case Layout::Whole:
      return path;
    case Layout::Elements:
      return path + "/" + std::to_string(i);
    case Layout::Rows:
      return path + "/" + std::to_string(i / columns);
    case Layout::Matrix:
      return path + "/" + std::to_string(i / columns) + "/" + std::to_string(i % columns);
    case Layout::Transposed:
      return path + "/" + std::to_string(i % columns) + "/" + std::to_string(i / columns);
  }
  internal_error(__FILE__, __LINE__, "unhandled field layout");
}

std::vector<std::string> rounded_float_literals(const std::vector<double>& values,
                                                const FieldOrigin& origin) {
  MCUPORT_ASSERT(origin.columns > 0 || origin.layout == FieldOrigin::Layout::Whole ||
                 origin.layout == FieldOrigin::Layout::Elements);
  std::vector<std::string> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    // The path is built only for the value the literal refuses.
    const bool holds = float32_constant_holds(values[i]);
    out.push_back(rounded_float_literal(values[i], holds ? std::string() : origin.element(i),
                                        origin.note));
  }
  return out;
}

std::vector<std::string> double_literals(const std::vector<double>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(double_literal(v));
  return out;
}

std::string widen_codes(const std::string& from, const std::string& to, uint32_t n,
                        uint32_t padded, const std::string& indent) {
  std::string out;
  const uint32_t looped = n / 4u >= 2u ? n / 4u * 4u : 0u;
  if (looped > 0) {
    out += indent + "{\n" + indent + "    const int16_t* src = " + from + ";\n" + indent +
           "    int32_t* dst = " + to + ";\n" + indent + "    do {\n";
    for (uint32_t i = 0; i < 4u; ++i) {
      const std::string k = std::to_string(i);
      out += indent + "        dst[" + k + "] = src[" + k + "];\n";
    }
    out += indent + "        dst += 4;\n" + indent + "        src += 4;\n" + indent +
           "    } while (dst != " + to + " + " + std::to_string(looped) + ");\n" + indent + "}\n";
  }
  for (uint32_t i = looped; i < n; ++i) {
    const std::string k = std::to_string(i);
    out += indent + to + "[" + k + "] = " + from + "[" + k + "];\n";
  }
  for (uint32_t i = n; i < padded; ++i) {
    out += indent + to + "[" + std::to_string(i) + "] = 0;\n";
  }
  return out;
}

}  // namespace mcuport::codegen
