// MpiWorld for a build without MPI: this process is the whole world.
#include "cli/sweep_mpi.h"

namespace tcsim::cli {

MpiWorld::MpiWorld() = default;
MpiWorld::~MpiWorld() = default;
void MpiWorld::barrier() const {}
int MpiWorld::max(int value) const { return value; }

}  // namespace tcsim::cli
