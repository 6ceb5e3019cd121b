#include "core/text_file.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim {

std::string read_text_file(const std::string& path, std::uintmax_t max_bytes, std::string_view what) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw ConfigError(fmt::format("{}: cannot read {} (no such file)", path, what));
  if (!std::filesystem::is_regular_file(status)) {
    throw ConfigError(fmt::format("{}: cannot read {} (not a regular file)", path, what));
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw ConfigError(fmt::format("{}: cannot read {} ({})", path, what, ec.message()));
  if (size > max_bytes) {
    throw ConfigError(fmt::format("{}: cannot read {} (larger than {} bytes)", path, what, max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read {}", path, what));
  std::string text;
  text.reserve(static_cast<std::size_t>(size));
  // The file may have grown since it was measured: read at most the bound and one byte more.
  std::istreambuf_iterator<char> it(in), end;
  for (; it != end && text.size() <= max_bytes; ++it) text.push_back(*it);
  if (text.size() > max_bytes) {
    throw ConfigError(fmt::format("{}: cannot read {} (larger than {} bytes)", path, what, max_bytes));
  }
  return text;
}

}  // namespace tcsim
