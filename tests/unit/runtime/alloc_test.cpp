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
