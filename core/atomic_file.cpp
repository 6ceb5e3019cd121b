#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim {

AtomicFile::AtomicFile(std::filesystem::path target, std::string what)
    : target_(std::move(target)), what_(std::move(what)) {
  std::error_code ec;
  // A symbolic link is written through: the file it names is replaced, the
  // link stays (a resumed sweep's table behind a link stays where it was).
  if (std::filesystem::is_symlink(std::filesystem::symlink_status(target_, ec))) {
    const std::filesystem::path resolved = std::filesystem::weakly_canonical(target_, ec);
    if (!ec) target_ = resolved;
  }
  const std::filesystem::file_status st = std::filesystem::status(target_, ec);
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
    throw ConfigError(fmt::format("{}: {}: not a regular file; refusing to replace it", what_, target_.string()));
  }
  temp_ = target_.parent_path() / fmt::format(".{}.tmp-{}", target_.filename().string(), ::getpid());
  file_ = std::fopen(temp_.c_str(), "wb");
  if (file_ == nullptr) {
    throw ConfigError(fmt::format("{}: cannot write {}: {}", what_, target_.string(), std::strerror(errno)));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!temp_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(temp_, ignored);
  }
}

void AtomicFile::fail(const std::string& why) {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  std::error_code ignored;
  std::filesystem::remove(temp_, ignored);
  temp_.clear();
  throw ConfigError(fmt::format("{}: cannot write {}: {}", what_, target_.string(), why));
}

void AtomicFile::commit() {
  if (std::fflush(file_) != 0 || std::ferror(file_) != 0) fail(std::strerror(errno));
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) fail(std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(temp_, target_, ec);
  if (ec) fail(ec.message());
  temp_.clear();
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text, std::string_view what) {
  AtomicFile f(path, std::string(what));
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), f.stream()) != text.size()) {
    throw ConfigError(fmt::format("{}: cannot write {}: {}", what, path.string(), std::strerror(errno)));
  }
  f.commit();
}

}  // namespace tcsim
