/* util.c: errors, clock, PRNG, atomic files, text buffers, model checks. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nnrt writes tensors in host order; safetensors needs little-endian"
#endif

int nnrt__fail(nnrt_error *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return 1;
}

void nnrt__prefix(nnrt_error *err, const char *fmt, ...) {
  if (!err) return;
  char head[512], old[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  /* Truncation is fine here: the start of the message matters most. */
  size_t cap = sizeof err->msg - 1, n = 0;
  const char *parts[3] = {head, ": ", old};
  for (int i = 0; i < 3; i++) {
    size_t k = strlen(parts[i]);
    if (k > cap - n) k = cap - n;
    memcpy(err->msg + n, parts[i], k);
    n += k;
  }
  err->msg[n] = 0;
}

char *nnrt__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

double nnrt_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- PRNG: splitmix64 to seed xoshiro256** (Blackman & Vigna) ---- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nnrt_rng_seed(nnrt_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t nnrt_rng_next_u64(nnrt_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double nnrt_rng_uniform(nnrt_rng *r) { return (double)(nnrt_rng_next_u64(r) >> 11) * 0x1.0p-53; }

/* High and low 64 bits of a * b, written out so every compiler gets the
 * same answer. */
static uint64_t mul128(uint64_t a, uint64_t b, uint64_t *lo) {
#if defined(__SIZEOF_INT128__)
  __extension__ typedef unsigned __int128 u128;
  u128 m = (u128)a * b;
  *lo = (uint64_t)m;
  return (uint64_t)(m >> 64);
#else
  uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  *lo = (mid << 32) | (p00 & 0xffffffffu);
  return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

uint64_t nnrt_rng_below(nnrt_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  /* Lemire's multiply-and-reject: unbiased, and without a division in the
   * common case (a division per element made epoch shuffles of small
   * datasets cost as much as the training steps). */
  uint64_t lo, hi = mul128(nnrt_rng_next_u64(r), n, &lo);
  if (lo < n) {
    uint64_t t = (0 - n) % n;
    while (lo < t) hi = mul128(nnrt_rng_next_u64(r), n, &lo);
  }
  return hi;
}

void nnrt_rng_shuffle(nnrt_rng *r, int64_t *a, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)nnrt_rng_below(r, (uint64_t)i + 1);
    int64_t t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/* ---- atomic files ---- */

/* Where a symlink leads, followed link by link (the end need not exist yet:
 * a dangling link names the file to create). Relative links are relative
 * to the link's directory. */
static char *follow_links(const char *path) {
  char *cur = nnrt__strdup(path);
  for (int hops = 0; cur && hops < 40; hops++) {
    struct stat st;
    if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) return cur;
    char link[4096];
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0) return cur;
    link[n] = 0;
    const char *slash = strrchr(cur, '/');
    size_t dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
    char *next = malloc(dir + (size_t)n + 1);
    if (next) {
      memcpy(next, cur, dir);
      memcpy(next + dir, link, (size_t)n + 1);
    }
    free(cur);
    cur = next;
  }
  return cur; /* a loop: fopen reports it */
}

/* The temp-file-and-rename would replace a symlink or a device node with a
 * regular file: a symlink is written through to its target, and anything
 * that exists but is not a regular file (/dev/full, a directory) refused. */
static int check_target(const char *path, const char *target, nnrt_error *err) {
  struct stat st;
  if (lstat(target, &st) == 0 && S_ISLNK(st.st_mode)) /* links in a loop */
    return nnrt__fail(err, "cannot write '%s': %s; expected a link that leads to a file", path,
                      strerror(ELOOP));
  if (stat(target, &st) != 0 || S_ISREG(st.st_mode)) return 0;
  return nnrt__fail(
      err, "cannot write '%s': it is %s; expected a path to a regular file (or a new one)", path,
      S_ISDIR(st.st_mode) ? "a directory" : "not a regular file (a device, pipe or socket)");
}

int nnrt__afile_open(nnrt__afile *a, const char *path, nnrt_error *err) {
  memset(a, 0, sizeof *a);
  a->path = nnrt__strdup(path);
  a->target = follow_links(path);
  size_t n = (a->target ? strlen(a->target) : 0) + 32;
  a->tmp = malloc(n);
  if (!a->path || !a->target || !a->tmp) {
    nnrt__afile_abort(a);
    return nnrt__fail(err, "out of memory");
  }
  if (check_target(path, a->target, err)) {
    nnrt__afile_abort(a);
    return 1;
  }
  snprintf(a->tmp, n, "%s.tmp.%ld", a->target, (long)getpid());
  a->f = fopen(a->tmp, "wb");
  if (!a->f) {
    int e = errno;
    nnrt__afile_abort(a);
    return nnrt__fail(err, "cannot write '%s': %s", path, strerror(e));
  }
  return 0;
}

void nnrt__afile_write(nnrt__afile *a, const void *data, size_t len) {
  if (a->failed || len == 0) return;
  if (fwrite(data, 1, len, a->f) != len) a->failed = errno ? errno : EIO;
}

void nnrt__afile_abort(nnrt__afile *a) {
  if (a->f) fclose(a->f);
  if (a->tmp && a->f) unlink(a->tmp);
  free(a->path);
  free(a->target);
  free(a->tmp);
  memset(a, 0, sizeof *a);
}

static void sync_parent_dir(const char *path) {
  /* The rename is only durable once the directory entry is on disk. */
  char *dir = nnrt__strdup(path);
  if (!dir) return;
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    slash[1] = 0;
  else if (slash)
    *slash = 0;
  else
    strcpy(dir, ".");
  int fd = open(dir, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

int nnrt__afile_commit(nnrt__afile *a, nnrt_error *err) {
  int e = a->failed;
  if (!e && fflush(a->f) != 0) e = errno;
  if (!e && fsync(fileno(a->f)) != 0) e = errno;
  if (fclose(a->f) != 0 && !e) e = errno;
  a->f = NULL;
  if (!e && rename(a->tmp, a->target) != 0) e = errno;
  if (e) {
    unlink(a->tmp);
    nnrt__fail(err, "cannot write '%s': %s", a->path, strerror(e));
  } else {
    sync_parent_dir(a->target);
  }
  free(a->path);
  free(a->target);
  free(a->tmp);
  memset(a, 0, sizeof *a);
  return e ? 1 : 0;
}

int nnrt_write_file_atomic(const char *path, const void *data, size_t len, nnrt_error *err) {
  nnrt__afile a;
  if (nnrt__afile_open(&a, path, err)) return 1;
  nnrt__afile_write(&a, data, len);
  return nnrt__afile_commit(&a, err);
}

/* ---- text buffers ---- */

void nnrt__buf_put(nnrt__buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void nnrt__buf_puts(nnrt__buf *b, const char *s) { nnrt__buf_put(b, s, strlen(s)); }

void nnrt__buf_printf(nnrt__buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    nnrt__buf_put(b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  nnrt__buf_put(b, big, (size_t)n);
  free(big);
}

void nnrt__buf_json_string(nnrt__buf *b, const char *s) {
  nnrt__buf_put(b, "\"", 1);
  size_t len = strlen(s);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p >= 0x80) {
      /* JSON is UTF-8 text: a byte that is not UTF-8 (a Latin-1 label in a
       * CSV) is written as U+FFFD, so that the file stays JSON, for us and
       * for other readers of safetensors headers and metrics */
      size_t pos = (size_t)(p - (const unsigned char *)s);
      uint32_t cp;
      if (nnrt__utf8_next(s, len, &pos, &cp))
        nnrt__buf_puts(b, "\\ufffd");
      else
        nnrt__buf_put(b, (const char *)p, pos - (size_t)(p - (const unsigned char *)s));
      p = (const unsigned char *)s + pos - 1;
      continue;
    }
    switch (*p) {
    case '"':
      nnrt__buf_puts(b, "\\\"");
      break;
    case '\\':
      nnrt__buf_puts(b, "\\\\");
      break;
    case '\n':
      nnrt__buf_puts(b, "\\n");
      break;
    case '\r':
      nnrt__buf_puts(b, "\\r");
      break;
    case '\t':
      nnrt__buf_puts(b, "\\t");
      break;
    default:
      if (*p < 0x20)
        nnrt__buf_printf(b, "\\u%04x", *p);
      else
        nnrt__buf_put(b, (const char *)p, 1);
    }
  }
  nnrt__buf_put(b, "\"", 1);
}

void nnrt__buf_json_number(nnrt__buf *b, double v, int float32) {
  if (!isfinite(v)) nnrt__buf_puts(b, "null");
  /* Integral values print as integers, exactly, up to 2^63 (2^53 used to
   * take the float path below and print as 9.007199e+15) */
  else if (v == floor(v) && fabs(v) < 9.2e18)
    nnrt__buf_printf(b, "%.0f", v);
  else {
    /* Shortest text that reads back to the same value, so 0.05f prints as
     * 0.05 and not 0.0500000007; values that are floats round-trip as floats. */
    char tmp[40];
    int as_float = float32 || (double)(float)v == v;
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(tmp, sizeof tmp, "%.*g", prec, v);
      if (as_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v) break;
    }
    nnrt__buf_puts(b, tmp);
  }
}

/* ---- model table checks ---- */

int nnrt_model_count(const nnrt_model *m, int role, int *first) {
  int count = 0;
  if (first) *first = -1;
  for (int i = 0; i < m->num_tensors; i++) {
    if (m->tensors[i].role != role) continue;
    if (count == 0 && first) *first = i;
    count++;
  }
  return count;
}

int nnrt_model_check(const nnrt_model *m, nnrt_error *err) {
  if (!m) return nnrt__fail(err, "no model");
  const char *name = m->name ? m->name : "?";
  if (m->abi_version != NNRT_ABI_VERSION)
    return nnrt__fail(err, "model '%s' was compiled for nnrt ABI %d, this runtime has ABI %d", name,
                      m->abi_version, NNRT_ABI_VERSION);
  if (!m->name) return nnrt__fail(err, "model table has no name");
  if (m->batch <= 0)
    return nnrt__fail(err, "model '%s': batch %lld is not positive", name, (long long)m->batch);
  if (m->num_tensors < 0 || (m->num_tensors > 0 && !m->tensors))
    return nnrt__fail(err, "model '%s': bad tensor table", name);
  if (m->num_params < 0 || m->opt_state_size < 0)
    return nnrt__fail(err, "model '%s': negative buffer size", name);
  int last_role = NNRT_PARAM;
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (!t->name) return nnrt__fail(err, "model '%s': tensor %d has no name", name, i);
    if (t->role < NNRT_PARAM || t->role > NNRT_OUTPUT || t->role < last_role)
      return nnrt__fail(
          err, "model '%s': tensor '%s' is out of order (parameters, inputs, targets, outputs)",
          name, t->name);
    last_role = t->role;
    if (t->dtype != NNRT_F32 && t->dtype != NNRT_I32)
      return nnrt__fail(err, "model '%s': tensor '%s' has unknown dtype %d", name, t->name,
                        t->dtype);
    if (t->rank < 0 || t->rank > NNRT_MAX_RANK)
      return nnrt__fail(err, "model '%s': tensor '%s' has rank %d", name, t->name, t->rank);
    int64_t size = 1;
    for (int d = 0; d < t->rank; d++) {
      if (t->shape[d] < 0)
        return nnrt__fail(err, "model '%s': tensor '%s' has a negative dimension", name, t->name);
      size *= t->shape[d];
    }
    if (size != t->size)
      return nnrt__fail(err, "model '%s': tensor '%s' has size %lld, its shape says %lld", name,
                        t->name, (long long)t->size, (long long)size);
    if (t->role == NNRT_PARAM) {
      if (t->dtype != NNRT_F32)
        return nnrt__fail(err, "model '%s': parameter '%s' is not F32", name, t->name);
      if (t->offset < 0 || t->offset + t->size > m->num_params)
        return nnrt__fail(err, "model '%s': parameter '%s' lies outside the parameter buffer", name,
                          t->name);
    }
  }
  return 0;
}
