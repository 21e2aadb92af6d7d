// The text of the C runtime codegen/runtime/mcuport_fixed.h, embedded at build time (see the
// root CMakeLists.txt), so that emitters can paste it into generated headers. The file on disk
// stays the one source: it is compiled and tested on its own.
#pragma once

namespace mcuport::codegen {

// The whole file, byte for byte; a static string that lives as long as the program.
const char* fixed_runtime_text();

}  // namespace mcuport::codegen
