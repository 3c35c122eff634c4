/* alloc.c: the allocator that nnc-generated code calls for its temporaries.
 *
 * A training step allocates the same large buffers, in the same order, every
 * step, and frees them all before it returns. Straight malloc/free hands
 * large blocks back to the kernel (munmap, heap trimming), so every step
 * page-faults them in again and the kernel clears each page first: 15% of a
 * step of a 3-layer MLP at batch 4096 (docs/benchmarks.md). Here a freed
 * large block waits in a small cache and the next request of the same size
 * takes it back.
 *
 * The generated code reaches these through convert-memref-to-llvm's
 * use-generic-functions names; it passes the same pointer to free that alloc
 * returned. One cache for the process, behind a mutex: a block may be freed
 * on another thread than the one that allocated it (OpenMP workers), and
 * nnrt_release_memory can then empty all of it. Large allocations are a few
 * hundred per step, so the lock costs nothing measurable. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Blocks below this size are left to malloc: its bins already reuse them. */
#define CACHE_MIN_BYTES ((size_t)64 << 10)
#define CACHE_SLOTS 512
/* The most the cache keeps: what one step of the models in examples/ frees,
 * without holding on to memory a finished training would return. */
#define CACHE_MAX_BYTES ((size_t)1 << 30)

/* Each block starts with its size, so free knows whether to cache it; 16
 * bytes keep the payload as aligned as malloc's. */
#define HEADER 16

typedef struct {
  size_t size;
  void *block;
} cache_slot;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_slot cache[CACHE_SLOTS];
static int cache_count;
static size_t cache_bytes;

void *_mlir_memref_to_llvm_alloc(size_t size) {
  if (size >= CACHE_MIN_BYTES) {
    char *hit = NULL;
    pthread_mutex_lock(&cache_lock);
    /* Newest first: the block freed last is the likeliest still in cache. */
    for (int i = cache_count - 1; i >= 0; i--)
      if (cache[i].size == size) {
        hit = cache[i].block;
        cache[i] = cache[--cache_count];
        cache_bytes -= size;
        break;
      }
    pthread_mutex_unlock(&cache_lock);
    if (hit) return hit + HEADER;
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
  if (size >= CACHE_MIN_BYTES) {
    int kept = 0;
    pthread_mutex_lock(&cache_lock);
    if (cache_count < CACHE_SLOTS && cache_bytes + size <= CACHE_MAX_BYTES) {
      cache[cache_count].size = size;
      cache[cache_count].block = b;
      cache_count++;
      cache_bytes += size;
      kept = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    if (kept) return;
  }
  free(b);
}

void nnrt_release_memory(void) {
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < cache_count; i++) free(cache[i].block);
  cache_count = 0;
  cache_bytes = 0;
  pthread_mutex_unlock(&cache_lock);
}
