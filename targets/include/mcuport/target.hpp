// What a target decides, as data: the default numeric mode, integer widths, where constant
// tables live, capacities and clock (for reports), the compile flags the tests use, and the
// emulator that runs its firmware. Code keys on these fields, never on a target's name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcuport/ir.hpp"

namespace mcuport {

// Where `static const` tables live and how the predict path reads them.
enum class ConstStorage {
  Ram,      // ordinary const data: in flash on Cortex-M and RISC-V (one address space)
  Progmem,  // AVR: PROGMEM tables read with pgm_read_*; plain const data would be copied to RAM
};

// What a split node of fast tree code takes on a core, measured (the bench's tree rows and
// test_targets' densest forests: one or two inputs, thousands of splits).
struct FastSplitBytes {
  // Fewer bytes than any split measured, rounded down. port() refuses a fast layout when its
  // splits times this, plus its tables, exceed the flash, so that what it refuses would not fit
  // at any density measured (a floor from measurements, not a proof); a model that passes can
  // still overflow the target's linker (test_targets checks the figure against the compiled
  // code). 4 where unmeasured: a compare and a branch of 2 bytes each.
  uint32_t least = 4;
  // About the median measured: the default layout is fast while the splits times this take at
  // most a quarter of the flash (test_targets checks a choice against the compiled code).
  uint32_t typical = 16;
};

struct Target {
  std::string name;
  std::vector<std::string> aliases;  // other names accepted for it ("cortex-m4" for cortex-m4f)
  std::string description;
  std::string arch;                  // instruction set: host, armv6m, armv7em, avr5, rv32, xtensa
  bool has_fpu = false;              // single-precision float in hardware
  Numeric default_numeric = Numeric::Fixed;
  int int_bits = 32;                 // width of C `int` on the target
  int double_bits = 64;              // width of C `double` (32 on avr-gcc)
  ConstStorage const_storage = ConstStorage::Ram;
  std::string compiler;              // the cross compiler the tests and reports use
  std::vector<std::string> cflags;   // flags for that compiler
  std::string toolchain_package;     // Debian packages of the compiler and its C library ("" if none)
  std::string emulator;              // the command that runs its firmware ("" if none runs here)
  std::string emulator_package;      // the Debian package of the emulator
  uint32_t clock_hz = 0;
  uint32_t flash_bytes = 0;          // 0 = not a constraint (host)
  uint32_t ram_bytes = 0;
  uint32_t max_object_bytes = 0;     // the largest one array can be (avr-gcc: 32767); 0 = no limit
  // Fast tree code of a forest with probability leaves (fixed mode) adds a mixed leaf's nonzero
  // entries where the leaf is reached when it has at most this many, and calls a shared
  // function reading a table otherwise. Written out, an entry is a constant added to a sum in
  // memory: cheap in code where a 16-bit constant is one instruction (movw), dear where it
  // comes from a literal pool or byte by byte, which makes the table smaller there.
  uint32_t inline_leaf_entries = 0;
  // Fast tree code in fixed mode copies up to this many inputs into int32 words on the stack
  // before a function whose trees read more than fit its registers (and have many splits per
  // input): where loading a word from the stack is much shorter than an indexed int16 load
  // (Thumb-1: a 2-byte `ldr rX, [sp, #4*f]`, up to 255 words, against an offset in a register
  // and an `ldrsh`). 0: never.
  uint32_t stack_input_words = 0;
  // Fast tree code of a forest with at most this many classes (integer sums, every leaf written
  // out) keeps the per-class sums in local variables, loaded once per function and stored once,
  // so that a leaf adds to a register instead of loading, adding and storing a word: where the
  // core has registers enough for them, the input pointer and a loaded input (Thumb-2's 13).
  // 0: the sums stay in memory (Thumb-1 and AVR spill them, which costs more than memory).
  uint32_t register_sums = 0;
  // The core loads a 32-bit word from any byte address in one instruction and multiplies 32 x
  // 32 -> 64 in one (Cortex-M4/M7): a table of 24-bit weights then takes 3 bytes a weight, each
  // read as the word at its first byte, whose top byte is the next weight's low byte (the
  // lowering chooses those low bytes: LowerOptions::overlapping_words).
  bool unaligned_words = false;
  // The core gives the high word of a signed 32 x 32 product in one instruction (SMMUL or SMULL
  // on Cortex-M4/M7, MULH on RV32M): a naive Bayes term whose weights need a shift each is then
  // that high word of (x - center) 2^15 and a 31-bit root, with no shift and no absolute value
  // (the lowering chooses those roots: LowerOptions::high_word_terms).
  bool high_word_multiply = false;
  // Bytes of flash a split node of fast tree code takes on this core, in fixed and in float
  // mode (predict's and the scores' code and tables over the split nodes, leaves included).
  FastSplitBytes fast_split_bytes_fixed;
  FastSplitBytes fast_split_bytes_float;
};

const char* to_string(ConstStorage storage);

const std::vector<Target>& known_targets();

// Finds a target by name or alias. Throws mcuport::Error naming the known targets when `name`
// is neither.
const Target& find_target(const std::string& name);

}  // namespace mcuport
