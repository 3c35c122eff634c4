// nnrt's allocator for generated code (runtime/src/alloc.c): large blocks a
// step frees come back for the next request of the same size, whichever
// thread frees or asks; other sizes do not take them, and
// nnrt_release_memory empties the cache.
#include <catch2/catch.hpp>

#include "nnrt/nnrt.h"

#include <cstdint>
#include <cstring>
#include <thread>

extern "C" void *_mlir_memref_to_llvm_alloc(size_t);
extern "C" void _mlir_memref_to_llvm_free(void *);

TEST_CASE("alloc: a freed large block is reused for the same size", "[runtime][alloc]") {
  nnrt_release_memory();
  const size_t big = size_t(8) << 20;
  void *a = _mlir_memref_to_llvm_alloc(big);
  REQUIRE(a);
  CHECK(reinterpret_cast<uintptr_t>(a) % 16 == 0);
  std::memset(a, 1, big);
  _mlir_memref_to_llvm_free(a);
  void *b = _mlir_memref_to_llvm_alloc(big);
  CHECK(b == a);
  // Another size does not take it; the block in use is not handed out twice.
  void *c = _mlir_memref_to_llvm_alloc(big + 64);
  CHECK(c != b);
  std::memset(c, 2, big + 64);
  _mlir_memref_to_llvm_free(b);
  _mlir_memref_to_llvm_free(c);
  void *d = _mlir_memref_to_llvm_alloc(big + 64);
  void *e = _mlir_memref_to_llvm_alloc(big);
  CHECK(d == c);
  CHECK(e == a);
  _mlir_memref_to_llvm_free(d);
  _mlir_memref_to_llvm_free(e);
  _mlir_memref_to_llvm_free(nullptr);
  nnrt_release_memory();
}

TEST_CASE("alloc: blocks cross threads, and release empties the cache", "[runtime][alloc]") {
  nnrt_release_memory();
  const size_t big = size_t(1) << 20;
  // Allocated on a worker, freed there: the main thread gets it back.
  void *fromWorker = nullptr;
  std::thread t([&] {
    fromWorker = _mlir_memref_to_llvm_alloc(big);
    std::memset(fromWorker, 3, big);
    _mlir_memref_to_llvm_free(fromWorker);
  });
  t.join();
  void *a = _mlir_memref_to_llvm_alloc(big);
  CHECK(a == fromWorker);
  // Freed on another thread than the one that allocated it.
  std::thread u([&] { _mlir_memref_to_llvm_free(a); });
  u.join();
  void *b = _mlir_memref_to_llvm_alloc(big);
  CHECK(b == a);
  std::memset(b, 4, big);
  _mlir_memref_to_llvm_free(b);
  // After a release the cache is empty: the next request is a fresh block
  // (malloc may return the same address, so only check it is usable).
  nnrt_release_memory();
  char *c = static_cast<char *>(_mlir_memref_to_llvm_alloc(big));
  REQUIRE(c);
  std::memset(c, 5, big);
  _mlir_memref_to_llvm_free(c);
  // Small blocks go straight back to malloc.
  char *s = static_cast<char *>(_mlir_memref_to_llvm_alloc(100));
  std::memset(s, 6, 100);
  _mlir_memref_to_llvm_free(s);
  nnrt_release_memory();
}

TEST_CASE("alloc: nnrt_alloc_floats gives zeroed, aligned floats, large or small",
          "[runtime][alloc]") {
  // Below and above the 2 MiB from which blocks are mapped on huge pages.
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(1000), int64_t(3) << 20}) {
    float *p = nnrt_alloc_floats(n);
    REQUIRE(p);
    CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
    bool zero = true;
    for (int64_t i = 0; i < n; i++)
      zero = zero && p[i] == 0.0f;
    CHECK(zero);
    for (int64_t i = 0; i < n; i++)
      p[i] = float(i);
    if (n > 0)
      CHECK(p[n - 1] == float(n - 1));
    nnrt_free_floats(p);
  }
  nnrt_free_floats(nullptr);
  CHECK(nnrt_alloc_floats(-1) == nullptr);
  CHECK(nnrt_alloc_floats(INT64_MAX) == nullptr);
}

TEST_CASE("alloc: temporaries are 64-byte aligned on either side of 2 MiB", "[runtime][alloc]") {
  for (size_t size : {size_t(100) << 10, size_t(5) << 20}) {
    void *a = _mlir_memref_to_llvm_alloc(size);
    REQUIRE(a);
    CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0);
    std::memset(a, 7, size);
    _mlir_memref_to_llvm_free(a);
  }
  nnrt_release_memory();
}
