// The target table. Adding a target is adding a row; code paths key on the fields, never on
// the name. AVR (PROGMEM tables) and ESP32 arrive with the targets issue.
#include <algorithm>

#include "mcuport/error.hpp"
#include "mcuport/target.hpp"

namespace mcuport {

const std::vector<Target>& known_targets() {
  static const std::vector<Target> table = {
      {"host", "the machine running mcuport (generic C99)", true, Numeric::Float, 32, "cc",
       {"-O2"}, 0, 0, 0},
      {"cortex-m0", "Arm Cortex-M0 (no FPU), e.g. RP2040, STM32F0", false, Numeric::Fixed, 32,
       "arm-none-eabi-gcc", {"-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft", "-Os"},
       48000000, 65536, 8192},
      {"cortex-m0plus", "Arm Cortex-M0+ (no FPU), e.g. SAMD21, STM32L0", false, Numeric::Fixed, 32,
       "arm-none-eabi-gcc", {"-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft", "-Os"},
       48000000, 262144, 32768},
      {"cortex-m4f", "Arm Cortex-M4 with single-precision FPU, e.g. STM32F4, nRF52840", true,
       Numeric::Fixed, 32, "arm-none-eabi-gcc",
       {"-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os"},
       168000000, 1048576, 196608},
      {"cortex-m7", "Arm Cortex-M7 with FPU, e.g. STM32F7, i.MX RT", true, Numeric::Fixed, 32,
       "arm-none-eabi-gcc",
       {"-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16", "-Os"}, 216000000,
       1048576, 327680},
      {"rv32imc", "RISC-V RV32IMC (no FPU), e.g. ESP32-C3, GD32VF103", false, Numeric::Fixed, 32,
       "riscv64-unknown-elf-gcc", {"-march=rv32imc", "-mabi=ilp32", "-Os"}, 160000000, 4194304,
       409600},
  };
  return table;
}

const Target& find_target(const std::string& name) {
  const auto& table = known_targets();
  const auto it = std::find_if(table.begin(), table.end(),
                               [&](const Target& t) { return t.name == name; });
  if (it != table.end()) return *it;
  std::string known;
  for (const Target& t : table) known += (known.empty() ? "" : ", ") + t.name;
  std::string shown;
  for (char c : name.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  throw Error("", "unknown target \"" + shown + "\" (known targets: " + known + ")");
}

}  // namespace mcuport
