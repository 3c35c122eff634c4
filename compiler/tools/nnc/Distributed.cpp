// Distributed.cpp: the MPI calls of data-parallel training, the one file
// that includes mpi.h. Each nnc process of an `mpirun -np N nnc train` is
// one rank; nnrt_fit does the rest (nnrt_fit_config.world).
#include "Distributed.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifdef NNC_HAVE_MPI
// The C API only: Open MPI's C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace nnc::tool {

namespace {

// Whether a launcher started this process as one of several: Open MPI's
// mpirun sets OMPI_COMM_WORLD_SIZE, PMI launchers PMI_SIZE.
bool launchedByMPI() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var))
      return true;
  return false;
}

} // namespace

#ifdef NNC_HAVE_MPI

namespace {
uint64_t fnv1a(const void *data, size_t n) {
  const unsigned char *p = static_cast<const unsigned char *>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
} // namespace

std::string mpiDescription() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  std::string v(version, size_t(len));
  if (size_t nl = v.find_first_of(",\n"); nl != std::string::npos)
    v.resize(nl);
  return "MPI: " + v + " (mpirun -np N nnc train ... trains on N processes)";
}

World joinWorld() {
  World w;
  if (!launchedByMPI())
    return w;
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited)
    MPI_Init(nullptr, nullptr);
  // Errors end the job with a message rather than returning codes that a
  // rank stuck in a collective would never see.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  return w;
}

void leaveWorld(const World &w) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (inited)
    MPI_Finalize();
  (void)w;
}

void abortWorld(const World &w, int status) {
  std::fflush(stdout);
  std::fprintf(stderr, "nnc: rank %d of %d failed (status %d); ending every rank of the job\n",
               w.rank, w.size, status);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status ? status : 1);
  std::exit(status ? status : 1);
}

void barrier(const World &w) {
  if (w.parallel())
    MPI_Barrier(MPI_COMM_WORLD);
}

int allreduceSum(void *world, float *buf, int64_t n) {
  (void)world;
  // MPI counts are ints: large buffers go in pieces.
  constexpr int64_t kPiece = int64_t(1) << 30;
  for (int64_t at = 0; at < n; at += kPiece) {
    int count = int(n - at < kPiece ? n - at : kPiece);
    if (MPI_Allreduce(MPI_IN_PLACE, buf + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
      return 1;
  }
  return 0;
}

bool sameOnEveryRank(const World &w, const float *p, int64_t n) {
  if (!w.parallel())
    return true;
  unsigned long long h = fnv1a(p, size_t(n) * sizeof(float)), lo = 0, hi = 0;
  MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  return lo == hi;
}

#else

std::string mpiDescription() {
  return "MPI: not built in (install libopenmpi-dev and rebuild for mpirun -np N nnc train)";
}

World joinWorld() {
  if (launchedByMPI())
    std::fprintf(stderr, "nnc: warning: started by mpirun, but this nnc has no MPI support: "
                         "each process trains alone\n");
  return World{};
}

void leaveWorld(const World &) {}

void abortWorld(const World &, int status) { std::exit(status ? status : 1); }

void barrier(const World &) {}

int allreduceSum(void *, float *, int64_t) { return 1; }

bool sameOnEveryRank(const World &, const float *, int64_t) { return true; }

#endif

} // namespace nnc::tool
