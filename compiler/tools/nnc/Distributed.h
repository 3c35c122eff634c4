// Distributed.h: data-parallel training over MPI (issue 17's `mpirun -np N
// nnc train`). Built with Open MPI when CMake finds it (NNC_HAVE_MPI);
// without it, every process is a world of one.
#pragma once

#include "nnrt/nnrt.h"

#include <cstdint>
#include <string>

namespace nnc::tool {

// This process's place among the processes of one `mpirun`.
struct World {
  int rank = 0, size = 1;
  bool parallel() const { return size > 1; }
  bool leader() const { return rank == 0; }
};

// Whether this nnc has MPI support, and which (for `nnc --help`).
std::string mpiDescription();

// Joins the processes mpirun started (MPI_Init), or a world of one when
// this process was not started by mpirun or nnc has no MPI.
World joinWorld();
// Leaves it (MPI_Finalize) after a clean end.
void leaveWorld(const World &w);
// Ends every process of the job at once (MPI_Abort), after this rank's
// message: one rank's error must not leave the others waiting for it.
[[noreturn]] void abortWorld(const World &w, int status);
// Waits until every rank has reached this point.
void barrier(const World &w);
// nnrt_fit_config's all-reduce: sums buf over the ranks, in place.
int allreduceSum(void *world, float *buf, int64_t n);
// Whether every rank holds the same bytes (a hash compared across ranks).
bool sameOnEveryRank(const World &w, const float *p, int64_t n);

} // namespace nnc::tool
