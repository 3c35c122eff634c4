/* json.c: a small, defensive JSON reader (safetensors headers, metadata
 * values) and the JSON writers. Input may be corrupt: every read is bounds
 * checked and nesting is limited, so a bad file gives an error, not a crash. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
  const char *s;
  size_t len, pos;
  nnrt_error *err;
} parser;

static int perr(parser *p, const char *what) {
  return nnrt__fail(p->err, "invalid JSON at byte %zu: %s", p->pos, what);
}

static void skip_ws(parser *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int hex4(parser *p, unsigned *out) {
  if (p->len - p->pos < 4) return perr(p, "truncated \\u escape");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p->s[p->pos++];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return perr(p, "bad \\u escape");
  }
  *out = v;
  return 0;
}

static void put_utf8(nnrt__buf *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xc0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xe0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    u[0] = (char)(0xf0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  nnrt__buf_put(b, u, n);
}

/* Parses a string at p->pos (which is at '"'); *out is malloc'd. */
static int parse_string(parser *p, char **out) {
  nnrt__buf b = {0};
  p->pos++;
  for (;;) {
    if (p->pos >= p->len) {
      free(b.p);
      return perr(p, "unterminated string");
    }
    unsigned char c = (unsigned char)p->s[p->pos++];
    if (c == '"') break;
    if (c < 0x20) {
      free(b.p);
      p->pos--;
      return perr(p, "control character in string");
    }
    if (c != '\\') {
      nnrt__buf_put(&b, (const char *)&c, 1);
      continue;
    }
    if (p->pos >= p->len) {
      free(b.p);
      return perr(p, "unterminated string");
    }
    char e = p->s[p->pos++];
    switch (e) {
    case '"':
      nnrt__buf_put(&b, "\"", 1);
      break;
    case '\\':
      nnrt__buf_put(&b, "\\", 1);
      break;
    case '/':
      nnrt__buf_put(&b, "/", 1);
      break;
    case 'b':
      nnrt__buf_put(&b, "\b", 1);
      break;
    case 'f':
      nnrt__buf_put(&b, "\f", 1);
      break;
    case 'n':
      nnrt__buf_put(&b, "\n", 1);
      break;
    case 'r':
      nnrt__buf_put(&b, "\r", 1);
      break;
    case 't':
      nnrt__buf_put(&b, "\t", 1);
      break;
    case 'u': {
      unsigned cp;
      if (hex4(p, &cp)) {
        free(b.p);
        return 1;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
          p->s[p->pos + 1] == 'u') {
        size_t save = p->pos;
        unsigned lo;
        p->pos += 2;
        if (hex4(p, &lo)) {
          free(b.p);
          return 1;
        }
        if (lo >= 0xdc00 && lo < 0xe000)
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        else
          p->pos = save;
      }
      /* half of a UTF-16 pair alone would be written as bytes that are not
       * UTF-8 (and hang a tokenizer that trusts them) */
      if (cp >= 0xd800 && cp < 0xe000) {
        free(b.p);
        return perr(p, "\\u escape of an unpaired UTF-16 surrogate");
      }
      if (cp == 0) {
        free(b.p);
        return perr(p, "\\u0000 in string");
      }
      put_utf8(&b, cp);
      break;
    }
    default:
      free(b.p);
      return perr(p, "bad escape");
    }
  }
  if (b.oom) {
    free(b.p);
    return nnrt__fail(p->err, "out of memory");
  }
  *out = b.p ? b.p : nnrt__strdup("");
  return *out ? 0 : nnrt__fail(p->err, "out of memory");
}

static int parse_number(parser *p, nnrt__json *out) {
  size_t start = p->pos;
  int is_int = 1;
  if (p->pos < p->len && p->s[p->pos] == '-') p->pos++;
  size_t digits = p->pos;
  while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  if (p->pos == digits) return perr(p, "bad number");
  if (p->pos < p->len && p->s[p->pos] == '.') {
    is_int = 0;
    p->pos++;
    size_t f = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == f) return perr(p, "bad number");
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    is_int = 0;
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    size_t f = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == f) return perr(p, "bad number");
  }
  /* Copy out: the text is not NUL-terminated. */
  char tmp[64];
  size_t n = p->pos - start;
  if (n >= sizeof tmp) return perr(p, "number too long");
  memcpy(tmp, p->s + start, n);
  tmp[n] = 0;
  out->type = NNRT__J_NUM;
  out->num = strtod(tmp, NULL);
  if (is_int) {
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno == 0) {
      out->is_int = 1;
      out->i = v;
    }
  }
  return 0;
}

static int parse_value(parser *p, nnrt__json *out, int depth);

static int add_kid(parser *p, nnrt__json *out, char *key) {
  if ((out->n & (out->n - 1)) == 0) { /* grow at powers of two */
    int cap = out->n ? out->n * 2 : 4;
    nnrt__json *k = realloc(out->kids, (size_t)cap * sizeof *k);
    if (k) out->kids = k;
    char **ks = out->type == NNRT__J_OBJ ? realloc(out->keys, (size_t)cap * sizeof *ks) : out->keys;
    if (ks) out->keys = ks;
    if (!k || (out->type == NNRT__J_OBJ && !ks)) {
      free(key);
      return nnrt__fail(p->err, "out of memory");
    }
  }
  memset(&out->kids[out->n], 0, sizeof out->kids[0]);
  if (out->type == NNRT__J_OBJ) out->keys[out->n] = key;
  out->n++;
  return 0;
}

static int parse_container(parser *p, nnrt__json *out, int depth, int obj) {
  out->type = obj ? NNRT__J_OBJ : NNRT__J_ARR;
  p->pos++;
  skip_ws(p);
  char close = obj ? '}' : ']';
  if (p->pos < p->len && p->s[p->pos] == close) {
    p->pos++;
    return 0;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(p);
    if (obj) {
      if (p->pos >= p->len || p->s[p->pos] != '"') return perr(p, "expected a key");
      if (parse_string(p, &key)) return 1;
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') {
        free(key);
        return perr(p, "expected ':'");
      }
      p->pos++;
    }
    if (add_kid(p, out, key)) return 1;
    if (parse_value(p, &out->kids[out->n - 1], depth + 1)) return 1;
    skip_ws(p);
    if (p->pos >= p->len) return perr(p, "unexpected end");
    char c = p->s[p->pos++];
    if (c == close) return 0;
    if (c != ',') {
      p->pos--;
      return perr(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}

static int parse_lit(parser *p, const char *lit) {
  size_t n = strlen(lit);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
    return perr(p, "unexpected character");
  p->pos += n;
  return 0;
}

static int parse_value(parser *p, nnrt__json *out, int depth) {
  memset(out, 0, sizeof *out);
  if (depth > MAX_DEPTH) return perr(p, "nested too deeply");
  skip_ws(p);
  if (p->pos >= p->len) return perr(p, "unexpected end");
  char c = p->s[p->pos];
  switch (c) {
  case '{':
    return parse_container(p, out, depth, 1);
  case '[':
    return parse_container(p, out, depth, 0);
  case '"':
    out->type = NNRT__J_STR;
    return parse_string(p, &out->str);
  case 't':
    out->type = NNRT__J_BOOL;
    out->i = 1;
    return parse_lit(p, "true");
  case 'f':
    out->type = NNRT__J_BOOL;
    return parse_lit(p, "false");
  case 'n':
    out->type = NNRT__J_NULL;
    return parse_lit(p, "null");
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
    return perr(p, "unexpected character");
  }
}

int nnrt__json_parse(const char *text, size_t len, nnrt__json *out, nnrt_error *err) {
  parser p = {text, len, 0, err};
  if (parse_value(&p, out, 0)) {
    nnrt__json_free(out);
    return 1;
  }
  skip_ws(&p);
  if (p.pos != p.len) {
    nnrt__json_free(out);
    return perr(&p, "trailing characters");
  }
  return 0;
}

void nnrt__json_free(nnrt__json *j) {
  if (!j) return;
  for (int i = 0; i < j->n; i++) {
    nnrt__json_free(&j->kids[i]);
    if (j->keys) free(j->keys[i]);
  }
  free(j->kids);
  free(j->keys);
  free(j->str);
  memset(j, 0, sizeof *j);
}

const nnrt__json *nnrt__json_get(const nnrt__json *obj, const char *key) {
  if (!obj || obj->type != NNRT__J_OBJ) return NULL;
  for (int i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0) return &obj->kids[i];
  return NULL;
}

/* ---- public helpers ---- */

char *nnrt_json_encode_floats(const float *v, int64_t n) {
  nnrt__buf b = {0};
  nnrt__buf_puts(&b, "[");
  for (int64_t i = 0; i < n; i++) {
    if (i) nnrt__buf_puts(&b, ",");
    nnrt__buf_json_number(&b, v[i], 1);
  }
  nnrt__buf_puts(&b, "]");
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

char *nnrt_json_encode_strings(const char *const *s, int n) {
  nnrt__buf b = {0};
  nnrt__buf_puts(&b, "[");
  for (int i = 0; i < n; i++) {
    if (i) nnrt__buf_puts(&b, ",");
    nnrt__buf_json_string(&b, s[i]);
  }
  nnrt__buf_puts(&b, "]");
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

int nnrt_json_decode_floats(const char *json, float **out, int64_t *n, nnrt_error *err) {
  nnrt__json j;
  *out = NULL;
  *n = 0;
  if (!json) return nnrt__fail(err, "no value");
  if (nnrt__json_parse(json, strlen(json), &j, err)) return 1;
  if (j.type != NNRT__J_ARR) {
    nnrt__json_free(&j);
    return nnrt__fail(err, "expected a list of numbers");
  }
  float *v = malloc((size_t)(j.n ? j.n : 1) * sizeof *v);
  if (!v) {
    nnrt__json_free(&j);
    return nnrt__fail(err, "out of memory");
  }
  for (int i = 0; i < j.n; i++) {
    if (j.kids[i].type != NNRT__J_NUM) {
      free(v);
      nnrt__json_free(&j);
      return nnrt__fail(err, "expected a list of numbers, item %d is not a number", i);
    }
    /* 4e46 reads as a double but is inf as a float: an error, not an inf
     * that comes out as "null" when the list is written again */
    double d = j.kids[i].num;
    if (!(fabs(d) < 0x1.ffffffp+127)) { /* FLT_MAX + half an ulp: rounds to inf */
      free(v);
      nnrt__json_free(&j);
      return nnrt__fail(err, "expected a list of numbers, item %d (%g) is out of the float32 range",
                        i, d);
    }
    v[i] = (float)d;
  }
  *out = v;
  *n = j.n;
  nnrt__json_free(&j);
  return 0;
}

void nnrt_free_strings(char **s, int n) {
  if (!s) return;
  for (int i = 0; i < n; i++) free(s[i]);
  free(s);
}

int nnrt_json_decode_strings(const char *json, char ***out, int *n, nnrt_error *err) {
  nnrt__json j;
  *out = NULL;
  *n = 0;
  if (!json) return nnrt__fail(err, "no value");
  if (nnrt__json_parse(json, strlen(json), &j, err)) return 1;
  if (j.type != NNRT__J_ARR) {
    nnrt__json_free(&j);
    return nnrt__fail(err, "expected a list of strings");
  }
  char **v = calloc((size_t)(j.n ? j.n : 1), sizeof *v);
  if (!v) {
    nnrt__json_free(&j);
    return nnrt__fail(err, "out of memory");
  }
  for (int i = 0; i < j.n; i++) {
    if (j.kids[i].type != NNRT__J_STR) {
      nnrt_free_strings(v, i);
      nnrt__json_free(&j);
      return nnrt__fail(err, "expected a list of strings, item %d is not a string", i);
    }
    v[i] = j.kids[i].str; /* take ownership */
    j.kids[i].str = NULL;
  }
  *out = v;
  *n = j.n;
  nnrt__json_free(&j);
  return 0;
}

/* The curves under "history", one list per metric; NaN as null. */
static const char *const curve_names[] = {"loss", "accuracy", "val_loss", "val_accuracy"};

static float *curve(const nnrt_history *h, int i) {
  float *const fs[4] = {h->loss, h->accuracy, h->val_loss, h->val_accuracy};
  return fs[i];
}

static void write_history(nnrt__buf *b, const nnrt_history *h, int64_t first_epoch) {
  nnrt__buf_puts(b, ", \"history\": {\"epoch\": [");
  for (int64_t k = 0; k < h->count; k++)
    nnrt__buf_printf(b, "%s%lld", k ? ", " : "", (long long)(first_epoch + k));
  nnrt__buf_puts(b, "]");
  for (int i = 0; i < 4; i++) {
    nnrt__buf_printf(b, ", \"%s\": [", curve_names[i]);
    for (int64_t k = 0; k < h->count; k++) {
      if (k) nnrt__buf_puts(b, ", ");
      nnrt__buf_json_number(b, curve(h, i)[k], 1);
    }
    nnrt__buf_puts(b, "]");
  }
  nnrt__buf_puts(b, "}");
}

int nnrt_write_metrics_json(const char *path, const char *model, int n, const char *const *keys,
                            const double *values, nnrt_error *err) {
  return nnrt_write_metrics_history_json(path, model, n, keys, values, NULL, 1, err);
}

int nnrt_write_metrics_history_json(const char *path, const char *model, int n,
                                    const char *const *keys, const double *values,
                                    const nnrt_history *h, int64_t first_epoch, nnrt_error *err) {
  nnrt__buf b = {0};
  nnrt__buf_puts(&b, "{\"model\": ");
  nnrt__buf_json_string(&b, model ? model : "");
  /* The curves before the final values: a script that takes the last
   * "accuracy" in the file gets the final one. */
  if (h) write_history(&b, h, first_epoch);
  for (int i = 0; i < n; i++) {
    nnrt__buf_puts(&b, ", ");
    nnrt__buf_json_string(&b, keys[i]);
    nnrt__buf_puts(&b, ": ");
    nnrt__buf_json_number(&b, values[i], 0);
  }
  nnrt__buf_puts(&b, "}\n");
  if (b.oom) {
    free(b.p);
    return nnrt__fail(err, "out of memory");
  }
  int rc = nnrt_write_file_atomic(path, b.p, b.len, err);
  free(b.p);
  return rc;
}

/* A list of numbers (null: NaN) of `n` entries, or NULL. */
static const nnrt__json *number_list(const nnrt__json *hist, const char *key, int64_t n) {
  const nnrt__json *a = nnrt__json_get(hist, key);
  if (!a || a->type != NNRT__J_ARR || (n >= 0 && a->n != n)) return NULL;
  for (int i = 0; i < a->n; i++)
    if (a->kids[i].type != NNRT__J_NUM && a->kids[i].type != NNRT__J_NULL) return NULL;
  return a;
}

static double number_at(const nnrt__json *a, int i) {
  return a->kids[i].type == NNRT__J_NUM ? a->kids[i].num : NAN;
}

static int read_history(const char *path, const nnrt__json *root, char **model, nnrt_history *h,
                        int64_t *first_epoch, nnrt_error *err) {
  const nnrt__json *m = nnrt__json_get(root, "model");
  const nnrt__json *hist = nnrt__json_get(root, "history");
  const nnrt__json *epochs = hist ? number_list(hist, "epoch", -1) : NULL;
  if (root->type != NNRT__J_OBJ || !m || m->type != NNRT__J_STR || !epochs || epochs->n == 0)
    return nnrt__fail(err,
                      "%s: expected the metrics nnc train --metrics-out writes: an object with "
                      "\"model\" and \"history\" holding a non-empty \"epoch\" list",
                      path);
  const nnrt__json *lists[4];
  for (int i = 0; i < 4; i++)
    if (!(lists[i] = number_list(hist, curve_names[i], epochs->n)))
      return nnrt__fail(err, "%s: history.%s is not a list of %d numbers (or nulls)", path,
                        curve_names[i], epochs->n);
  float **fs[4] = {&h->loss, &h->accuracy, &h->val_loss, &h->val_accuracy};
  for (int i = 0; i < 4; i++)
    if (!(*fs[i] = malloc((size_t)epochs->n * sizeof(float))))
      return nnrt__fail(err, "out of memory");
  h->count = h->capacity = epochs->n;
  for (int k = 0; k < epochs->n; k++)
    for (int i = 0; i < 4; i++) (*fs[i])[k] = (float)number_at(lists[i], k);
  *first_epoch = (int64_t)number_at(epochs, 0);
  *model = nnrt__strdup(m->str);
  return *model ? 0 : nnrt__fail(err, "out of memory");
}

int nnrt_read_metrics_history(const char *path, char **model, nnrt_history *h, int64_t *first_epoch,
                              nnrt_error *err) {
  char *text = NULL;
  size_t len = 0;
  memset(h, 0, sizeof *h);
  *model = NULL;
  if (nnrt_text_load(path, &text, &len, err)) return 1;
  nnrt__json root;
  int rc = nnrt__json_parse(text, len, &root, err);
  free(text);
  if (rc) {
    char why[sizeof err->msg];
    memcpy(why, err->msg, sizeof why);
    return nnrt__fail(err, "%s: %s", path, why);
  }
  rc = read_history(path, &root, model, h, first_epoch, err);
  if (rc) nnrt_history_free(h);
  nnrt__json_free(&root);
  return rc;
}
