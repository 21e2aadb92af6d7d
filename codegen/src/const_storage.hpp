// Where a target keeps constant tables, applied to emitted C after the family emitters have
// written it. The emitters write plain C (`table[i]`); for a target whose constants live in a
// separate address space (AVR: PROGMEM), every table read becomes the matching flash read
// (`M_ROM_I16(&table[i])`, pgm_read_word on AVR), so the family emitters stay target-independent.
#pragma once

#include <string>
#include <vector>

#include "c_writer.hpp"
#include "mcuport/target.hpp"

namespace mcuport::codegen {

// Rewrites every read of one of `tables` in `code` for `storage`. Code is returned unchanged for
// ConstStorage::Ram. Throws InternalError when a table is used other than by full indexing
// (as a pointer, with `&`, or with fewer indices than dimensions): such a use would read flash
// addresses as RAM on AVR.
std::string place_table_reads(const std::string& code, const std::vector<Table>& tables,
                              ConstStorage storage, const std::string& prefix,
                              const std::string& macro);

// The lines a header needs before its tables for `storage`: the <P>_ROM placement and read
// macros (pgm_read_* when compiled for AVR, plain reads elsewhere, so the same header also runs
// in host tests) and the helpers that read 64-bit values (only those that `code` uses). Empty
// for ConstStorage::Ram.
std::string const_storage_support(const std::string& code, ConstStorage storage,
                                  const std::string& prefix, const std::string& macro);

}  // namespace mcuport::codegen
