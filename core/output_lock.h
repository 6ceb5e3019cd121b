// One writer per output: an exclusive advisory lock (flock) on a file beside
// the output, PATH.lock, held while the object lives. A second tcsim that
// wants the same output is refused at once with a clear message, instead of
// both appending and tearing each other's rows. The lock file stays (removing
// it would race with the next writer); the lock itself ends with the process.
#pragma once

#include <string>
#include <string_view>

namespace tcsim {

class OutputLock {
 public:
  // Throws ConfigError "WHAT: PATH: another tcsim is writing it (PATH.lock)"
  // when the lock is held, or naming the cause when it cannot be taken.
  OutputLock(const std::string& path, std::string_view what);
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  ~OutputLock();

 private:
  int fd_ = -1;
};

}  // namespace tcsim
