// nnrt's allocator for generated code (runtime/src/alloc.c): large blocks a
// step frees come back for the next request of the same size; small ones
// and other sizes do not, and every block is writable over its full size.
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

TEST_CASE("alloc: caches are per thread and release empties them", "[runtime][alloc]") {
  nnrt_release_memory();
  const size_t big = size_t(1) << 20;
  void *a = _mlir_memref_to_llvm_alloc(big);
  _mlir_memref_to_llvm_free(a);
  void *other = nullptr;
  std::thread t([&] {
    other = _mlir_memref_to_llvm_alloc(big);
    std::memset(other, 3, big);
    _mlir_memref_to_llvm_free(other);
    nnrt_release_memory();
  });
  t.join();
  CHECK(other != a); // the main thread's cached block stays its own
  void *b = _mlir_memref_to_llvm_alloc(big);
  CHECK(b == a);
  _mlir_memref_to_llvm_free(b);
  nnrt_release_memory();
  // Small blocks go straight back to malloc: nothing to check but that the
  // pair works and the memory is usable.
  char *s = static_cast<char *>(_mlir_memref_to_llvm_alloc(100));
  std::memset(s, 4, 100);
  _mlir_memref_to_llvm_free(s);
}
