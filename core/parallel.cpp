#include "core/parallel.h"

namespace tcsim {

int default_jobs() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace tcsim
