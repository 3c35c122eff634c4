/* fuzz_util.h: helpers shared by the fuzz targets (C and C++). */
#ifndef NNC_FUZZ_UTIL_H
#define NNC_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The loaders take a path: the input becomes the contents of an in-memory
 * file (memfd), opened again through /proc/self/fd/N, so a run touches no
 * disk. slot 0..3 gives separate files for loaders that read several. */
static inline const char *fuzz_file(int slot, const uint8_t *data, size_t size) {
  static int fds[4] = {-1, -1, -1, -1};
  static char paths[4][64];
  if (fds[slot] < 0) {
    fds[slot] = memfd_create("nnc-fuzz", 0);
    if (fds[slot] < 0) {
      perror("memfd_create");
      abort();
    }
    snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
  }
  if (ftruncate(fds[slot], 0) != 0)
    abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fds[slot], data + done, size - done, (off_t)done);
    if (n <= 0)
      abort();
    done += (size_t)n;
  }
  return paths[slot];
}

/* A NUL-terminated copy (malloc'd) of the input, for APIs that take C
 * strings. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = (char *)malloc(size + 1);
  if (!s)
    abort();
  if (size)
    memcpy(s, data, size);
  s[size] = 0;
  return s;
}

/* A property the code promises that the input broke: abort, so libFuzzer
 * keeps the input, and say which. */
#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);                \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

#endif
