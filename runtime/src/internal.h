/* internal.h: helpers shared by the nnrt sources, not part of the API. */
#ifndef NNRT_INTERNAL_H
#define NNRT_INTERNAL_H

#include "nnrt/nnrt.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define NNRT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NNRT_PRINTF(a, b)

#endif

/* Fills err (may be NULL) and returns 1, so callers can `return fail(...)`. */
int nnrt__fail(nnrt_error *err, const char *fmt, ...) NNRT_PRINTF(2, 3);
/* Prefixes err->msg with "ctx: " (keeps the original message). */
void nnrt__prefix(nnrt_error *err, const char *fmt, ...) NNRT_PRINTF(2, 3);
char *nnrt__strdup(const char *s);

/* Decodes the code point at s[*pos] (pos < len) and advances *pos; returns
 * NULL, or why the bytes there are not UTF-8: then *cp is U+FFFD and *pos
 * moves one byte on, so that no loop over text stops making progress (text
 * is checked where it comes in; this keeps a miss from hanging). */
const char *nnrt__utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp);

/* An epoch's progress while it trains (progress.c). every: seconds between
 * plain lines when f is not a terminal (0: 10 s; < 0: none); tty: whether
 * it is (0: isatty; 1 yes; -1 no). */
typedef struct nnrt__progress {
  FILE *f;
  int tty, has_acc, drawn;
  int64_t epoch, epochs, steps;
  double start, last, every;
} nnrt__progress;

void nnrt__progress_begin(nnrt__progress *p, FILE *f, double every, int tty, int has_acc,
                          int64_t epoch, int64_t epochs, int64_t steps);
/* After `done` of the epoch's steps: `samples` rows so far, their mean loss
 * and accuracy. Draws when it is time to (always after the last step). */
void nnrt__progress_step(nnrt__progress *p, int64_t done, int64_t samples, double loss, double acc);
/* Erases the bar from a terminal, for the epoch's summary line. */
void nnrt__progress_end(nnrt__progress *p);

/* Atomic write in steps, for files produced piecewise (checkpoints). */
typedef struct nnrt__afile {
  FILE *f;
  char *path;   /* as the caller named it, for messages */
  char *target; /* the file replaced: path, or where its symlinks lead */
  char *tmp;
  int failed;
} nnrt__afile;

int nnrt__afile_open(nnrt__afile *a, const char *path, nnrt_error *err);
void nnrt__afile_write(nnrt__afile *a, const void *data, size_t len);
int nnrt__afile_commit(nnrt__afile *a, nnrt_error *err);
void nnrt__afile_abort(nnrt__afile *a);

/* A growable byte buffer for building text. */
typedef struct nnrt__buf {
  char *p;
  size_t len, cap;
  int oom;
} nnrt__buf;

void nnrt__buf_put(nnrt__buf *b, const char *s, size_t n);
void nnrt__buf_puts(nnrt__buf *b, const char *s);
void nnrt__buf_printf(nnrt__buf *b, const char *fmt, ...) NNRT_PRINTF(2, 3);
void nnrt__buf_json_string(nnrt__buf *b, const char *s);
void nnrt__buf_json_number(nnrt__buf *b, double v, int float32);

/* A small JSON DOM for safetensors headers and metadata values. Numbers
 * keep their exact integer value when they are integers. */
enum { NNRT__J_NULL, NNRT__J_BOOL, NNRT__J_NUM, NNRT__J_STR, NNRT__J_ARR, NNRT__J_OBJ };

typedef struct nnrt__json {
  int type;
  int is_int; /* number written without fraction or exponent */
  int64_t i;
  double num;
  char *str; /* string value */
  int n;     /* array/object children */
  struct nnrt__json *kids;
  char **keys; /* object keys */
} nnrt__json;

/* Parses exactly len bytes (trailing whitespace allowed); on error returns
 * non-zero with the byte offset in the message. */
int nnrt__json_parse(const char *text, size_t len, nnrt__json *out, nnrt_error *err);
void nnrt__json_free(nnrt__json *j);
const nnrt__json *nnrt__json_get(const nnrt__json *obj, const char *key);

/* A string interner with counts: ids in order of first occurrence. */
typedef struct nnrt__strset {
  char **keys;
  int64_t *counts;
  int32_t n, cap;
  int32_t *table;
  uint32_t tsize;
} nnrt__strset;

/* Counts one more occurrence of w[0..n) and gives its id (id may be NULL);
 * returns non-zero when out of memory. */
int nnrt__strset_add(nnrt__strset *s, const char *w, size_t n, int32_t *id);
void nnrt__strset_free(nnrt__strset *s);

/* s[0..len) lower-cased (the Keras Tokenizer's lower=True) as a malloc'd,
 * NUL-terminated copy; NULL when out of memory. s must be valid UTF-8. */
char *nnrt__lower(const char *s, size_t len, size_t *out_len);

/* The next bAbI token of s at *pos (see NNRT_TOKENS_BABI): its start in
 * *tok and its length, 0 at the end. s must be valid UTF-8. */
size_t nnrt__babi_next(const char *s, size_t len, size_t *pos, const char **tok);

#endif
