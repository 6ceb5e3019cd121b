// Reading a small input file whole: a regular file only (never a FIFO, a
// device or a directory, which could block or never end) and no larger than
// the caller's bound, so a wrong path cannot hang the tool or exhaust memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tcsim {

// The file's bytes. Throws ConfigError "PATH: cannot read WHAT (why)" when
// it is missing, not a regular file, larger than `max_bytes`, or unreadable.
std::string read_text_file(const std::string& path, std::uintmax_t max_bytes, std::string_view what);

}  // namespace tcsim
