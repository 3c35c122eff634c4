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
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Blocks below this size are left to malloc: its bins already reuse them. */
#define CACHE_MIN_BYTES ((size_t)64 << 10)
#define CACHE_SLOTS 512
/* The most the cache keeps: what one step of the models in examples/ frees,
 * without holding on to memory a finished training would return. */
#define CACHE_MAX_BYTES ((size_t)1 << 30)

/* Each block starts with its size, so free knows how the block was made and
 * whether to cache it; 64 bytes keep the payload on a cache line, so a
 * 32-byte vector load of an aligned row never straddles two lines. */
#define HEADER 64

/* Blocks from this size on are mapped on their own, 2 MiB-aligned, and asked
 * for transparent huge pages. A weight matrix of a few MB read in 64-byte
 * column strips touches a new 4 KiB page on every row: with 4 KiB pages that
 * is a TLB miss per row, with 2 MiB pages a handful per matrix. Measured on
 * the H=512 char LSTM (docs/benchmarks.md). */
#define HUGE_BYTES ((size_t)2 << 20)

static size_t huge_length(size_t bytes) { return (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1); }

/* A block of at least `bytes`, 64-byte aligned, zeroed if `zero` (mapped
 * blocks always are); NULL when out of memory. */
static char *block_new(size_t bytes, int zero) {
  if (bytes >= HUGE_BYTES) {
    size_t len = huge_length(bytes);
    char *raw =
        mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *b = (char *)(((uintptr_t)raw + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
    if (b > raw) munmap(raw, (size_t)(b - raw));
    if (raw + HUGE_BYTES > b) munmap(b + len, (size_t)(raw + HUGE_BYTES - b));
#ifdef MADV_HUGEPAGE
    madvise(b, len, MADV_HUGEPAGE); /* a hint: without THP the block still works */
#endif
    return b;
  }
  void *b = NULL;
  if (posix_memalign(&b, 64, bytes)) return NULL;
  return zero ? memset(b, 0, bytes) : b;
}

static void block_delete(char *b, size_t bytes) {
  if (bytes >= HUGE_BYTES)
    munmap(b, huge_length(bytes));
  else
    free(b);
}

/* A block of `size` payload bytes behind its header (which records the
 * size); NULL when out of memory or too large. */
static char *sized_new(size_t size, int zero) {
  if (size > SIZE_MAX - HUGE_BYTES - HEADER) return NULL;
  char *b = block_new(size + HEADER, zero);
  if (!b) return NULL;
  *(size_t *)b = size;
  return b + HEADER;
}

/* The payload's block and size. */
static char *block_of(void *payload, size_t *size) {
  char *b = (char *)payload - HEADER;
  *size = *(size_t *)b;
  return b;
}

typedef struct {
  size_t size;
  void *block;
} cache_slot;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_slot cache[CACHE_SLOTS];
static int cache_count;
static size_t cache_bytes;

static int64_t stat_calls, stat_fresh, stat_fresh_bytes;

void nnrt_alloc_stats_get(nnrt_alloc_stats *s) {
  s->calls = __atomic_load_n(&stat_calls, __ATOMIC_RELAXED);
  s->fresh = __atomic_load_n(&stat_fresh, __ATOMIC_RELAXED);
  s->fresh_bytes = __atomic_load_n(&stat_fresh_bytes, __ATOMIC_RELAXED);
}

void *_mlir_memref_to_llvm_alloc(size_t size) {
  __atomic_add_fetch(&stat_calls, 1, __ATOMIC_RELAXED);
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
  __atomic_add_fetch(&stat_fresh, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&stat_fresh_bytes, (int64_t)size, __ATOMIC_RELAXED);
  return sized_new(size, 0);
}

void _mlir_memref_to_llvm_free(void *p) {
  if (!p) return;
  size_t size;
  char *b = block_of(p, &size);
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
  block_delete(b, size + HEADER);
}

void nnrt_release_memory(void) {
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < cache_count; i++) block_delete(cache[i].block, cache[i].size + HEADER);
  cache_count = 0;
  cache_bytes = 0;
  pthread_mutex_unlock(&cache_lock);
}

float *nnrt_alloc_floats(int64_t n) {
  if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof(float)) return NULL;
  return (float *)sized_new((size_t)n * sizeof(float), 1);
}

void nnrt_free_floats(float *p) {
  if (!p) return;
  size_t size;
  char *b = block_of(p, &size);
  block_delete(b, size + HEADER);
}

void *nnrt_alloc_workspace(const nnrt_model *m) {
  /* At least one float, so that a model that needs none still gets a
   * pointer that is not NULL (NULL asks the call to allocate its own). */
  int64_t bytes = m->workspace_bytes > 0 ? m->workspace_bytes : 1;
  return nnrt_alloc_floats((bytes + (int64_t)sizeof(float) - 1) / (int64_t)sizeof(float));
}
