// The target table. Adding a target is adding a row; code paths key on the fields, never on
// the name. Clocks and capacities are those of a common part of each family (named in the
// description); a report turns cycles into time with the clock.
#include <algorithm>

#include "mcuport/error.hpp"
#include "mcuport/target.hpp"

namespace mcuport {

const char* to_string(ConstStorage storage) {
  return storage == ConstStorage::Progmem ? "progmem" : "ram";
}

const std::vector<Target>& known_targets() {
  static const std::vector<Target> table = [] {
    std::vector<Target> t;
    Target host;
    host.name = "host";
    host.description = "the machine running mcuport (generic C99)";
    host.arch = "host";
    host.has_fpu = true;
    host.default_numeric = Numeric::Float;
    host.compiler = "cc";
    host.cflags = {"-O2"};
    host.inline_leaf_entries = 16;
    t.push_back(host);

    Target m0;
    m0.name = "cortex-m0";
    m0.description =
        "Arm Cortex-M0 (no FPU), e.g. nRF51822 (BBC micro:bit): 256 KB flash, 16 KB RAM, 16 MHz";
    m0.arch = "armv6m";
    m0.compiler = "arm-none-eabi-gcc";
    m0.cflags = {"-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft", "-Os"};
    m0.toolchain_package = "gcc-arm-none-eabi libnewlib-arm-none-eabi";
    m0.emulator = "qemu-system-arm -M microbit";
    m0.emulator_package = "qemu-system-arm";
    m0.clock_hz = 16000000;
    m0.flash_bytes = 262144;
    m0.ram_bytes = 16384;
    // The 10-tree depth-8 digits forest (64 inputs, 1,000 splits): 18,668 -> 14,476 B of
    // flash, 779 -> 1,133 instructions a prediction, 256 B more stack.
    m0.stack_input_words = 255;
    // Fast tree code measured 11.4 to 23 bytes a split in fixed mode (median 14.6), 19.3 to 51
    // in float mode on forests (36; the software compare is a call), up to 105 on small trees
    // (the software float library counted in).
    m0.fast_split_bytes_fixed = {10, 15};
    m0.fast_split_bytes_float = {18, 36};
    t.push_back(m0);

    Target m0plus = m0;
    m0plus.name = "cortex-m0plus";
    m0plus.aliases = {"cortex-m0+"};
    m0plus.description =
        "Arm Cortex-M0+ (no FPU), e.g. SAMD21 (Arduino Zero): 256 KB flash, 32 KB RAM, 48 MHz";
    m0plus.cflags = {"-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft", "-Os"};
    m0plus.clock_hz = 48000000;
    m0plus.flash_bytes = 262144;
    m0plus.ram_bytes = 32768;
    // M0's fast-split figures: test_targets' densest forests take the same bytes a split with
    // -mcpu=cortex-m0plus (11.4 and 12.1 in fixed mode, 21.5 and 21.0 in float mode).
    t.push_back(m0plus);

    Target m4;
    m4.name = "cortex-m4f";
    m4.aliases = {"cortex-m4"};
    m4.description =
        "Arm Cortex-M4 with single-precision FPU, e.g. STM32F407: 1 MB flash, 192 KB RAM, 168 MHz";
    m4.arch = "armv7em";
    m4.has_fpu = true;
    m4.compiler = "arm-none-eabi-gcc";
    m4.cflags = {"-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os"};
    m4.toolchain_package = "gcc-arm-none-eabi libnewlib-arm-none-eabi";
    m4.emulator = "qemu-system-arm -M mps2-an386";
    m4.emulator_package = "qemu-system-arm";
    m4.clock_hz = 168000000;
    m4.flash_bytes = 1048576;
    m4.ram_bytes = 196608;
    // All of a digits leaf's entries (10 classes): the 10-tree depth-8 forest takes 376
    // instructions a prediction instead of 507 with every mixed leaf called, for 14% more
    // flash. On Cortex-M0 and AVR the same costs 14% and 35% more flash, so they call.
    m4.inline_leaf_entries = 16;
    // The 50-tree depth-8 digits forest (10 classes): 1,590 -> 1,513 instructions a prediction
    // with its sums in registers (gcc keeps nine and spills one), for 3% more flash. On
    // Cortex-M0 the same is 9% slower and 41% larger.
    m4.register_sums = 10;
    // breast_cancer's EllipticEnvelope (24-bit weights): 2,256 -> 1,808 bytes of predict flash,
    // 2,610 -> 2,102 instructions with the loop that reads them (docs/fixed-point.md,
    // "Overlapping words").
    m4.unaligned_words = true;
    // GaussianNB on digits (weights far apart: a shift per term): 7,481 -> 4,927 instructions a
    // prediction with high-word terms, for 696 more bytes of predict flash and 264 of stack
    // (docs/fixed-point.md, Gaussian naive Bayes).
    m4.high_word_multiply = true;
    // Fast tree code measured 8.9 to 19 bytes a split in fixed mode (median 12.5), 18.3 to 60
    // in float mode (28; VCMPE, VMRS and a branch a split, float leaf rows).
    m4.fast_split_bytes_fixed = {8, 13};
    m4.fast_split_bytes_float = {16, 28};
    t.push_back(m4);

    Target m7 = m4;
    m7.name = "cortex-m7";
    m7.aliases = {};
    m7.description = "Arm Cortex-M7 with FPU, e.g. STM32F746: 1 MB flash, 320 KB RAM, 216 MHz";
    m7.cflags = {"-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16", "-Os"};
    m7.emulator = "qemu-system-arm -M mps2-an500";
    m7.clock_hz = 216000000;
    m7.ram_bytes = 327680;
    // M4's fast-split figures: test_targets' densest forests take the same bytes a split with
    // -mcpu=cortex-m7 (8.9 and 10.0 in fixed mode, 23.5 and 23.0 in float mode).
    t.push_back(m7);

    Target avr;
    avr.name = "avr-atmega328p";
    avr.aliases = {"atmega328p", "arduino-uno"};
    avr.description = "AVR ATmega328P (Arduino Uno): 8-bit, no FPU, 32 KB flash, 2 KB RAM, 16 MHz";
    avr.arch = "avr5";
    avr.int_bits = 16;
    avr.double_bits = 32;
    avr.const_storage = ConstStorage::Progmem;
    avr.compiler = "avr-gcc";
    avr.cflags = {"-mmcu=atmega328p", "-Os"};
    avr.toolchain_package = "gcc-avr avr-libc";
    avr.emulator = "simavr -m atmega328p -f 16000000";
    avr.emulator_package = "simavr";
    avr.clock_hz = 16000000;
    avr.flash_bytes = 32768;
    avr.ram_bytes = 2048;
    avr.max_object_bytes = 32767;  // size_t and ptrdiff_t are 16 bits
    // Fast tree code measured 9.8 to 23 bytes a split in fixed mode (median 16.4), 22.7 to 56
    // in float mode (37).
    avr.fast_split_bytes_fixed = {8, 16};
    avr.fast_split_bytes_float = {20, 37};
    t.push_back(avr);

    Target rv;
    rv.name = "rv32imc";
    rv.aliases = {"riscv32"};
    rv.description = "RISC-V RV32IMC (no FPU), e.g. ESP32-C3: 4 MB flash, 400 KB RAM, 160 MHz";
    rv.arch = "rv32";
    rv.compiler = "riscv64-unknown-elf-gcc";
    rv.cflags = {"-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs", "-Os"};
    rv.toolchain_package = "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf";
    rv.emulator = "qemu-system-riscv32 -M virt";
    rv.emulator_package = "qemu-system-misc";
    rv.clock_hz = 160000000;
    rv.flash_bytes = 4194304;
    rv.ram_bytes = 409600;
    // MULH gives the high word of a signed 32 x 32 product: GaussianNB on digits takes 11,169 ->
    // 8,676 instructions a prediction with high-word terms (12 a term), for 752 more bytes of
    // flash and 256 of stack (docs/fixed-point.md, Gaussian naive Bayes).
    rv.high_word_multiply = true;
    // Fast tree code measured 9.5 to 22 bytes a split in fixed mode (about 12 on most trees),
    // 25.3 to 37 in float mode (about 27): test_targets' forests, not the bench's.
    rv.fast_split_bytes_fixed = {8, 12};
    rv.fast_split_bytes_float = {20, 27};
    t.push_back(rv);

    Target esp32;
    esp32.name = "esp32";
    esp32.description =
        "Espressif ESP32 (Xtensa LX6, single-precision FPU): 4 MB flash, 320 KB RAM, 240 MHz; "
        "described only: its "
        "toolchain (xtensa-esp32-elf-gcc, from ESP-IDF) is not a Debian package";
    esp32.arch = "xtensa";
    esp32.has_fpu = true;
    esp32.compiler = "xtensa-esp32-elf-gcc";
    esp32.cflags = {"-mlongcalls", "-Os"};
    esp32.clock_hz = 240000000;
    esp32.flash_bytes = 4194304;
    esp32.ram_bytes = 327680;
    t.push_back(esp32);
    return t;
  }();
  return table;
}

const Target& find_target(const std::string& name) {
  const auto& table = known_targets();
  const auto it = std::find_if(table.begin(), table.end(), [&](const Target& t) {
    return t.name == name || std::find(t.aliases.begin(), t.aliases.end(), name) != t.aliases.end();
  });
  if (it != table.end()) return *it;
  std::string known;
  for (const Target& t : table) {
    known += (known.empty() ? "" : ", ") + t.name;
    std::string aliases;
    for (const std::string& alias : t.aliases) aliases += (aliases.empty() ? "" : ", ") + alias;
    if (!aliases.empty()) known += " (also " + aliases + ")";
  }
  std::string shown;
  for (char c : name.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  throw Error("", "unknown target \"" + shown + "\" (known targets: " + known + ")");
}

}  // namespace mcuport
