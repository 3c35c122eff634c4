/* alloc.c: the allocator that nnc-generated code calls for its temporaries.
 *
 * A training step allocates the same large buffers, in the same order, every
 * step, and frees them all before it returns. Straight malloc/free hands
 * large blocks back to the kernel (munmap, heap trimming), so every step
 * page-faults them in again and the kernel clears each page first: 15% of a
 * step of a 3-layer MLP at batch 4096 (docs/benchmarks.md). Here a freed
 * large block waits in a small per-thread cache and the next request of the
 * same size takes it back.
 *
 * The generated code reaches these through convert-memref-to-llvm's
 * use-generic-functions names; it passes the same pointer to free that alloc
 * returned. */
#include "internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Blocks below this size are left to malloc: its bins already reuse them. */
#define CACHE_MIN_BYTES ((size_t)64 << 10)
#define CACHE_SLOTS 512
/* The most a thread keeps cached: what one step of the models in examples/
 * frees, without holding on to memory a finished training would return. */
#define CACHE_MAX_BYTES ((size_t)1 << 30)

/* Each block starts with its size, so free knows whether to cache it; 16
 * bytes keep the payload as aligned as malloc's. */
#define HEADER 16

typedef struct {
  size_t size;
  void *block;
} cache_slot;

/* Per thread: OpenMP workers may allocate too, and no lock is needed. */
static _Thread_local cache_slot cache[CACHE_SLOTS];
static _Thread_local int cache_count;
static _Thread_local size_t cache_bytes;

void *_mlir_memref_to_llvm_alloc(size_t size) {
  if (size >= CACHE_MIN_BYTES)
    for (int i = cache_count - 1; i >= 0; i--)
      if (cache[i].size == size) {
        char *b = cache[i].block;
        cache[i] = cache[--cache_count];
        cache_bytes -= size;
        return b + HEADER;
      }
  char *b = malloc(size + HEADER);
  if (!b) return NULL;
  *(size_t *)b = size;
  return b + HEADER;
}

void _mlir_memref_to_llvm_free(void *p) {
  if (!p) return;
  char *b = (char *)p - HEADER;
  size_t size = *(size_t *)b;
  if (size >= CACHE_MIN_BYTES && cache_count < CACHE_SLOTS &&
      cache_bytes + size <= CACHE_MAX_BYTES) {
    cache[cache_count].size = size;
    cache[cache_count].block = b;
    cache_count++;
    cache_bytes += size;
    return;
  }
  free(b);
}

void nnrt_release_memory(void) {
  for (int i = 0; i < cache_count; i++) free(cache[i].block);
  cache_count = 0;
  cache_bytes = 0;
}
