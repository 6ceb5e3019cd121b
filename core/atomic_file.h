// Output files written whole or not at all: the text goes to a temporary
// file beside the target, then a rename replaces the target, so a reader (or
// a kill, or a full disk) sees the old file or the new one, never half of
// one. Only regular files are replaced: a target that exists and is not a
// regular file (a device, a FIFO, a directory) is refused, never turned into
// a regular file. A symbolic link is written through: the file it names is
// replaced and the link kept.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace tcsim {

// A file being written. Contract: stream() takes the text; commit() flushes,
// closes and renames it over the target; a file not committed is removed
// when the object dies. Every failure is a ConfigError that starts with
// `what` (the flag or command that named the file) and the path.
class AtomicFile {
 public:
  AtomicFile(std::filesystem::path target, std::string what);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  std::FILE* stream() { return file_; }
  void commit();

 private:
  [[noreturn]] void fail(const std::string& why);

  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::string what_;
  std::FILE* file_ = nullptr;
};

// Writes `text` to `path` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view text, std::string_view what);

}  // namespace tcsim
