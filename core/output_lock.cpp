#include "core/output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim {

OutputLock::OutputLock(const std::string& path, std::string_view what) {
  const std::string lock = path + ".lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) {
    throw ConfigError(fmt::format("{}: {}: cannot take the lock {}: {}", what, path, lock, std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw ConfigError(
          fmt::format("{}: {}: another tcsim is writing it ({} is locked); wait for it, or use another "
                      "output",
                      what, path, lock));
    }
    throw ConfigError(fmt::format("{}: {}: cannot take the lock {}: {}", what, path, lock, std::strerror(err)));
  }
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace tcsim
