// The MPI world `tcsim sweep` runs in. Built with MPI (cli/sweep_mpi.cpp, when
// CMake finds it) and started by an MPI launcher (mpirun, srun), each rank
// evaluates its shard of the variants and rank 0 merges the shards; otherwise
// (cli/sweep_mpi_none.cpp) the world is this one process. Only
// cli/sweep_mpi.cpp includes mpi.h.
#pragma once

namespace tcsim::cli {

// Contract: constructing joins the world (MPI_Init) only when the environment
// shows a launcher (Open MPI's OMPI_COMM_WORLD_SIZE, PMI or PMIx variables);
// destroying leaves it (MPI_Finalize). One per process; the collective calls
// are made from the thread that constructed it, by every rank, in the same
// order.
class MpiWorld {
 public:
  MpiWorld();
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ranks on this node (they share its cores).
  int local_size() const { return local_size_; }
  void barrier() const;
  // The largest `value` over all ranks (every rank gets it).
  int max(int value) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_size_ = 1;
};

}  // namespace tcsim::cli
