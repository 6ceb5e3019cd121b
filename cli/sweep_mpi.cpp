// MpiWorld on MPI: joined when an MPI launcher started this process.
#include "cli/sweep_mpi.h"

// The C API only: Open MPI's and MPICH's deprecated C++ bindings stay out.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdlib>
#include <initializer_list>

namespace tcsim::cli {
namespace {

// Variables the common launchers set in every rank: Open MPI's mpirun, and the
// PMI / PMIx interfaces of MPICH's hydra and Slurm's srun.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

// Joined when MPI is initialised and not yet finalised: by this constructor,
// the one caller of MPI_Init in tcsim.
bool joined() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized != 0 && finalized == 0;
}

}  // namespace

MpiWorld::MpiWorld() {
  if (!launched_by_mpi() || joined()) return;
  // Worker threads never call MPI; only the thread that constructed this does.
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

MpiWorld::~MpiWorld() {
  if (joined()) MPI_Finalize();
}

void MpiWorld::barrier() const {
  if (size_ > 1) MPI_Barrier(MPI_COMM_WORLD);
}

int MpiWorld::max(int value) const {
  if (size_ == 1) return value;
  int out = value;
  MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

}  // namespace tcsim::cli
