/* text.c: UTF-8 text corpora, character and word vocabularies (the Keras
 * Tokenizer's rules for words), encoding and decoding, vocabularies in
 * checkpoint metadata, and datasets cut from token streams. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ---- */

static const char *utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *cp);

const char *nnrt__utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp) {
  const char *why = utf8_decode(s, len, pos, cp);
  if (why) {
    *cp = 0xfffd;
    *pos += 1;
  }
  return why;
}

static const char *utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *cp) {
  const unsigned char *u = (const unsigned char *)s + *pos;
  size_t left = len - *pos;
  unsigned c = u[0];
  if (c < 0x80) {
    *cp = c;
    *pos += 1;
    return NULL;
  }
  int n;
  uint32_t v, min;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2, v = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, v = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, v = c & 0x07, min = 0x10000;
  else if (c <= 0xbf)
    return "a continuation byte without a lead byte";
  else if (c <= 0xc1)
    return "overlong encoding";
  else
    return "this byte never occurs in UTF-8";
  for (int i = 1; i < n; i++) {
    if ((size_t)i >= left) return "sequence cut short by the end of the text";
    if ((u[i] & 0xc0) != 0x80) return "sequence cut short";
    v = (v << 6) | (u[i] & 0x3f);
  }
  if (v < min) return "overlong encoding";
  if (v >= 0xd800 && v <= 0xdfff) return "UTF-16 surrogate";
  if (v > 0x10ffff) return "code point past U+10FFFF";
  *cp = v;
  *pos += (size_t)n;
  return NULL;
}

static size_t put_utf8(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

int nnrt_utf8_check(const char *name, const char *s, size_t len, nnrt_error *err) {
  int line = 1;
  size_t pos = 0;
  while (pos < len) {
    unsigned char c = (unsigned char)s[pos];
    const char *why = NULL;
    if (c == 0)
      why = "NUL byte (not a text file?)";
    else if (c < 0x80) {
      if (c == '\n') line++;
      pos++;
      continue;
    } else {
      uint32_t cp;
      why = utf8_decode(s, len, &pos, &cp);
    }
    if (!why) continue;
    if (name)
      return nnrt__fail(err, "%s:%d: invalid UTF-8 at byte %zu (0x%02x): %s", name, line, pos, c,
                        why);
    return nnrt__fail(err, "invalid UTF-8 at line %d, byte %zu (0x%02x): %s", line, pos, c, why);
  }
  return 0;
}

int nnrt_text_load(const char *path, char **text, size_t *len, nnrt_error *err) {
  *text = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return nnrt__fail(err, "cannot open '%s': %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      fclose(f);
      return nnrt__fail(err, "out of memory reading '%s'", path);
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
    if (n + 1 == cap) {
      char *p = realloc(buf, cap * 2);
      if (!p) free(buf);
      buf = p;
      cap *= 2;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return nnrt__fail(err, "cannot read '%s'", path);
  }
  buf[n] = 0;
  if (n == 0) {
    free(buf);
    return nnrt__fail(err, "%s: file is empty", path);
  }
  if (nnrt_utf8_check(path, buf, n, err)) {
    free(buf);
    return 1;
  }
  *text = buf;
  *len = n;
  return 0;
}

/* ---- Keras Tokenizer normalisation ---- */

static const char KERAS_FILTERS[] = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

static int is_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

/* Lower case for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * capitals (Python's str.lower() knows all of Unicode; these are the
 * common cases, and none changes the UTF-8 length). */
static uint32_t to_lower(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;
  if (c >= 0x100 && c <= 0x17f) {
    if ((c <= 0x137 || (c >= 0x14a && c <= 0x177)) && c != 0x130) return c | 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && (c & 1)) return c + 1;
    if (c == 0x178) return 0xff;
    return c;
  }
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

/* Lower-cased text with filter characters and all whitespace turned into
 * single-byte spaces; never longer than the input. text must be valid. */
static char *normalize_words(const char *text, size_t len, size_t *out_len) {
  char *out = malloc(len + 1);
  if (!out) return NULL;
  size_t pos = 0, n = 0;
  while (pos < len) {
    uint32_t c;
    if (nnrt__utf8_next(text, len, &pos, &c))
      out[n++] = text[pos - 1]; /* not UTF-8: as it is */
    else if (is_space(c) || (c < 0x80 && strchr(KERAS_FILTERS, (int)c)))
      out[n++] = ' ';
    else
      n += put_utf8(out + n, to_lower(c));
  }
  out[n] = 0;
  *out_len = n;
  return out;
}

/* Next word of normalised text at *pos: its start and length (0 at end). */
static size_t next_word(const char *s, size_t len, size_t *pos, const char **word) {
  size_t p = *pos;
  while (p < len && s[p] == ' ') p++;
  size_t start = p;
  while (p < len && s[p] != ' ') p++;
  *word = s + start;
  *pos = p;
  return p - start;
}

char *nnrt__lower(const char *s, size_t len, size_t *out_len) {
  char *out = malloc(len + 1);
  if (!out) return NULL;
  size_t pos = 0, n = 0;
  while (pos < len) {
    uint32_t c;
    if (nnrt__utf8_next(s, len, &pos, &c))
      out[n++] = s[pos - 1]; /* not UTF-8: as it is */
    else
      n += put_utf8(out + n, to_lower(c));
  }
  out[n] = 0;
  *out_len = n;
  return out;
}

/* Python's \w for ASCII; every other non-space code point counts as a word
 * character, so accented words stay whole. */
static int is_word_char(uint32_t c) {
  if (c < 0x80)
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return !is_space(c);
}

/* Keras's babi_memnn tokenize: [x.strip() for x in re.split(r'(\W+)', s)
 * if x.strip()]: runs of word characters, and runs of other characters
 * with their surrounding whitespace stripped ("bathroom." -> "bathroom",
 * "."). */
size_t nnrt__babi_next(const char *s, size_t len, size_t *pos, const char **tok) {
  size_t p = *pos, q;
  uint32_t c;
  for (;;) {
    if (p >= len) {
      *pos = p;
      *tok = s + p;
      return 0;
    }
    q = p;
    nnrt__utf8_next(s, len, &q, &c);
    if (!is_space(c)) break;
    p = q;
  }
  size_t start = p, end = q;
  int word = is_word_char(c);
  p = q;
  while (p < len) {
    q = p;
    nnrt__utf8_next(s, len, &q, &c);
    if (is_word_char(c) != word) break;
    if (!is_space(c)) end = q;
    p = q;
  }
  *pos = p;
  *tok = s + start;
  return end - start;
}

/* ---- string tables: token -> index, with counts ---- */

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

static int32_t table_find(const int32_t *table, uint32_t tsize, char *const *keys, const char *s,
                          size_t n) {
  if (tsize == 0) return -1;
  uint32_t mask = tsize - 1, i = (uint32_t)hash_bytes(s, n) & mask;
  for (;;) {
    int32_t id = table[i];
    if (id < 0) return -1;
    if (strncmp(keys[id], s, n) == 0 && keys[id][n] == 0) return id;
    i = (i + 1) & mask;
  }
}

static void table_insert(int32_t *table, uint32_t tsize, char *const *keys, int32_t id) {
  uint32_t mask = tsize - 1, i = (uint32_t)hash_bytes(keys[id], strlen(keys[id])) & mask;
  while (table[i] >= 0) i = (i + 1) & mask;
  table[i] = id;
}

/* A table at most half full, for ids [first, n). */
static int32_t *table_build(char *const *keys, int32_t first, int32_t n, uint32_t *tsize) {
  uint32_t size = 16;
  while (size < 2u * (uint32_t)n) size *= 2;
  int32_t *t = malloc((size_t)size * sizeof *t);
  if (!t) return NULL;
  memset(t, 0xff, (size_t)size * sizeof *t);
  for (int32_t id = first; id < n; id++) table_insert(t, size, keys, id);
  *tsize = size;
  return t;
}

typedef nnrt__strset strset;

void nnrt__strset_free(strset *s) {
  nnrt_free_strings(s->keys, s->n);
  free(s->counts);
  free(s->table);
  memset(s, 0, sizeof *s);
}

int nnrt__strset_add(strset *s, const char *w, size_t n, int32_t *id_out) {
  int32_t id = table_find(s->table, s->tsize, s->keys, w, n);
  if (id >= 0) {
    s->counts[id]++;
    if (id_out) *id_out = id;
    return 0;
  }
  if (s->n >= INT32_MAX / 4) return 1;
  if (s->n == s->cap) {
    int32_t cap = s->cap ? s->cap * 2 : 256;
    char **k = realloc(s->keys, (size_t)cap * sizeof *k);
    if (!k) return 1;
    s->keys = k;
    int64_t *c = realloc(s->counts, (size_t)cap * sizeof *c);
    if (!c) return 1;
    s->counts = c;
    s->cap = cap;
  }
  char *key = malloc(n + 1);
  if (!key) return 1;
  memcpy(key, w, n);
  key[n] = 0;
  s->keys[s->n] = key;
  s->counts[s->n] = 1;
  if (id_out) *id_out = s->n;
  s->n++;
  if (2u * (uint32_t)s->n > s->tsize) {
    uint32_t size;
    int32_t *t = table_build(s->keys, 0, s->n, &size);
    if (!t) return 1;
    free(s->table);
    s->table = t;
    s->tsize = size;
  } else {
    table_insert(s->table, s->tsize, s->keys, s->n - 1);
  }
  return 0;
}

/* ---- vocabularies ---- */

void nnrt_vocab_free(nnrt_vocab *v) {
  if (!v) return;
  nnrt_free_strings(v->tokens, v->size);
  free(v->counts);
  free(v->table);
  memset(v, 0, sizeof *v);
}

int32_t nnrt_vocab_id(const nnrt_vocab *v, const char *token, size_t len) {
  return table_find(v->table, v->table_size, v->tokens, token, len);
}

typedef struct {
  int64_t count;
  int32_t index; /* order of first occurrence */
  const char *key;
} rank;

static int by_count(const void *a, const void *b) {
  const rank *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

static int by_code_point(const void *a, const void *b) {
  /* strcmp compares bytes as unsigned char, and UTF-8 byte order is code
   * point order. */
  return strcmp(((const rank *)a)->key, ((const rank *)b)->key);
}

static int kind_ok(int kind) {
  return kind == NNRT_TOKENS_CHARS || kind == NNRT_TOKENS_WORDS || kind == NNRT_TOKENS_BABI;
}

static const char *kind_name(int kind) {
  return kind == NNRT_TOKENS_WORDS ? "words" : kind == NNRT_TOKENS_CHARS ? "chars" : "babi";
}

/* Calls fn(ctx, token, length) on each token of text for the kind (words:
 * of the normalised text; babi: of the lower-cased text; chars: each code
 * point), while fn returns 0 (nonzero: out of memory). Returns 1 when out of
 * memory, else 0. text must be valid UTF-8. What nnrt_vocab_build and
 * nnrt_vocab_encode share. */
typedef int (*token_fn)(void *ctx, const char *tok, size_t len);
static int each_token(int kind, const char *text, size_t len, token_fn fn, void *ctx) {
  if (kind == NNRT_TOKENS_WORDS || kind == NNRT_TOKENS_BABI) {
    int words = kind == NNRT_TOKENS_WORDS;
    size_t n;
    char *s = words ? normalize_words(text, len, &n) : nnrt__lower(text, len, &n);
    if (!s) return 1;
    size_t pos = 0, tl;
    const char *t;
    int oom = 0;
    while (!oom && (tl = words ? next_word(s, n, &pos, &t) : nnrt__babi_next(s, n, &pos, &t)) > 0)
      oom = fn(ctx, t, tl);
    free(s);
    return oom;
  }
  size_t pos = 0;
  while (pos < len) {
    size_t start = pos;
    uint32_t c;
    nnrt__utf8_next(text, len, &pos, &c);
    if (fn(ctx, text + start, pos - start)) return 1;
  }
  return 0;
}

static int add_token(void *set, const char *tok, size_t len) {
  return nnrt__strset_add(set, tok, len, NULL);
}

/* nnrt_vocab_encode's state: the ids so far and the tokens not in v. */
typedef struct {
  const nnrt_vocab *v;
  int32_t *out;
  int64_t k;
  strset unknown;
} encoding;

static int encode_token(void *ctx, const char *tok, size_t len) {
  encoding *e = ctx;
  int32_t id = nnrt_vocab_id(e->v, tok, len);
  if (id < 0) return nnrt__strset_add(&e->unknown, tok, len, NULL);
  e->out[e->k++] = id;
  return 0;
}

int nnrt_vocab_build(nnrt_vocab *v, int kind, const char *text, size_t len, nnrt_error *err) {
  memset(v, 0, sizeof *v);
  if (!kind_ok(kind)) return nnrt__fail(err, "unknown token kind %d (chars or words)", kind);
  if (nnrt_utf8_check(NULL, text, len, err)) return 1;
  strset set = {0};
  int oom = each_token(kind, text, len, add_token, &set);
  if (oom) {
    nnrt__strset_free(&set);
    return nnrt__fail(err, "out of memory");
  }
  if (set.n == 0) {
    nnrt__strset_free(&set);
    return nnrt__fail(err,
                      kind == NNRT_TOKENS_CHARS ? "the text is empty" : "the text has no words");
  }
  int32_t first = kind == NNRT_TOKENS_CHARS ? 0 : 1;
  rank *order = malloc((size_t)set.n * sizeof *order);
  v->size = set.n + first;
  v->tokens = calloc((size_t)v->size, sizeof *v->tokens);
  v->counts = calloc((size_t)v->size, sizeof *v->counts);
  if (!order || !v->tokens || !v->counts || (first && !(v->tokens[0] = nnrt__strdup("")))) {
    free(order);
    nnrt__strset_free(&set);
    nnrt_vocab_free(v);
    return nnrt__fail(err, "out of memory");
  }
  for (int32_t i = 0; i < set.n; i++) order[i] = (rank){set.counts[i], i, set.keys[i]};
  qsort(order, (size_t)set.n, sizeof *order, kind == NNRT_TOKENS_WORDS ? by_count : by_code_point);
  for (int32_t r = 0; r < set.n; r++) {
    v->tokens[first + r] = set.keys[order[r].index]; /* take ownership */
    v->counts[first + r] = order[r].count;
    set.keys[order[r].index] = NULL;
  }
  free(order);
  nnrt__strset_free(&set);
  v->kind = kind;
  if (!(v->table = table_build(v->tokens, first, v->size, &v->table_size))) {
    nnrt_vocab_free(v);
    return nnrt__fail(err, "out of memory");
  }
  return 0;
}

/* Appends a token to an error message, quoted, or as U+XXXX when it is a
 * control character. */
static void put_token(nnrt__buf *b, const char *t) {
  unsigned char c = (unsigned char)t[0];
  if (c < 0x20 || c == 0x7f)
    nnrt__buf_printf(b, "U+%04X", c);
  else {
    nnrt__buf_puts(b, "'");
    nnrt__buf_puts(b, t);
    nnrt__buf_puts(b, "'");
  }
}

static int unknown_error(const strset *unknown, int kind, nnrt_error *err) {
  nnrt__buf b = {0};
  int shown = 0;
  for (; shown < unknown->n; shown++) {
    if (b.len > 700) break;
    if (shown) nnrt__buf_puts(&b, ", ");
    put_token(&b, unknown->keys[shown]);
  }
  if (shown < unknown->n) nnrt__buf_printf(&b, " and %d more", unknown->n - shown);
  nnrt__buf_puts(&b, unknown->n == 1 ? " is not in the vocabulary" : " are not in the vocabulary");
  nnrt__buf_puts(&b, kind == NNRT_TOKENS_BABI
                         ? " (the model knows only the words of its training stories)"
                         : " (did you train on this corpus?)");
  if (b.oom)
    nnrt__fail(err, "tokens are not in the vocabulary");
  else
    nnrt__fail(err, "%s", b.p);
  free(b.p);
  return 1;
}

int nnrt_vocab_encode(const nnrt_vocab *v, const char *text, size_t len, int32_t **ids, int64_t *n,
                      nnrt_error *err) {
  *ids = NULL;
  *n = 0;
  if (!kind_ok(v->kind) || !v->table) return nnrt__fail(err, "empty vocabulary");
  if (nnrt_utf8_check(NULL, text, len, err)) return 1;
  int32_t *out = malloc((len + 1) * sizeof *out); /* at most one token per byte */
  if (!out) return nnrt__fail(err, "out of memory");
  encoding enc = {v, out, 0, {0}};
  int oom = each_token(v->kind, text, len, encode_token, &enc);
  int rc = 0;
  if (oom)
    rc = nnrt__fail(err, "out of memory");
  else if (enc.unknown.n)
    rc = unknown_error(&enc.unknown, v->kind, err);
  nnrt__strset_free(&enc.unknown);
  if (rc) {
    free(out);
    return 1;
  }
  *ids = out;
  *n = enc.k;
  return 0;
}

int nnrt_vocab_decode(const nnrt_vocab *v, const int32_t *ids, int64_t n, char **text,
                      nnrt_error *err) {
  *text = NULL;
  if (!kind_ok(v->kind)) return nnrt__fail(err, "empty vocabulary");
  nnrt__buf b = {0};
  nnrt__buf_put(&b, "", 0);
  for (int64_t i = 0; i < n; i++) {
    int32_t id = ids[i];
    if (id < 0 || id >= v->size || (v->kind != NNRT_TOKENS_CHARS && id == 0)) {
      free(b.p);
      if (id == 0)
        return nnrt__fail(err, "token %lld: id 0 is reserved in a word vocabulary", (long long)i);
      return nnrt__fail(err, "token %lld: id %d is outside the vocabulary (%d ids)", (long long)i,
                        id, v->size);
    }
    if (i && v->kind != NNRT_TOKENS_CHARS) nnrt__buf_put(&b, " ", 1);
    nnrt__buf_puts(&b, v->tokens[id]);
  }
  if (b.oom) {
    free(b.p);
    return nnrt__fail(err, "out of memory");
  }
  *text = b.p;
  return 0;
}

/* ---- vocabularies as checkpoint metadata ---- */

int nnrt_vocab_to_metadata(const nnrt_vocab *v, nnrt_metadata *md, nnrt_error *err) {
  if (!kind_ok(v->kind)) return nnrt__fail(err, "empty vocabulary");
  char *json = nnrt_json_encode_strings((const char *const *)v->tokens, v->size);
  if (!json) return nnrt__fail(err, "out of memory");
  int rc = nnrt_metadata_set(md, NNRT_META_VOCAB, json) ||
           nnrt_metadata_set(md, NNRT_META_TOKENS, kind_name(v->kind));
  free(json);
  return rc ? nnrt__fail(err, "out of memory") : 0;
}

int nnrt_vocab_from_metadata(nnrt_vocab *v, const nnrt_metadata *md, nnrt_error *err) {
  memset(v, 0, sizeof *v);
  const char *kind_s = nnrt_metadata_get(md, NNRT_META_TOKENS);
  const char *json = nnrt_metadata_get(md, NNRT_META_VOCAB);
  if (!json || !kind_s)
    return nnrt__fail(
        err, "no vocabulary in the metadata (needs '%s' and '%s'; was the model trained on text?)",
        NNRT_META_VOCAB, NNRT_META_TOKENS);
  int kind = 0;
  for (int k = NNRT_TOKENS_CHARS; k <= NNRT_TOKENS_BABI; k++)
    if (strcmp(kind_s, kind_name(k)) == 0) kind = k;
  if (!kind)
    return nnrt__fail(err, "metadata '%s' is '%s', expected 'words', 'chars' or 'babi'",
                      NNRT_META_TOKENS, kind_s);
  char **tokens;
  int n;
  if (nnrt_json_decode_strings(json, &tokens, &n, err)) {
    nnrt__prefix(err, "metadata '%s'", NNRT_META_VOCAB);
    return 1;
  }
  if (nnrt_vocab_from_tokens(v, kind, tokens, n, err)) {
    nnrt__prefix(err, "metadata '%s'", NNRT_META_VOCAB);
    return 1;
  }
  return 0;
}

int nnrt_vocab_from_tokens(nnrt_vocab *v, int kind, char **tokens, int n, nnrt_error *err) {
  memset(v, 0, sizeof *v);
  if (!kind_ok(kind)) {
    nnrt_free_strings(tokens, n);
    return nnrt__fail(err, "unknown token kind %d", kind);
  }
  int first = kind == NNRT_TOKENS_CHARS ? 0 : 1;
  v->kind = kind;
  v->size = n;
  v->tokens = tokens;
  if (n <= first) {
    nnrt_vocab_free(v);
    return nnrt__fail(err, "the vocabulary has no tokens");
  }
  if (first && tokens[0][0]) {
    nnrt_vocab_free(v);
    return nnrt__fail(err, "a word vocabulary starts with the reserved \"\"");
  }
  for (int i = first; i < n; i++) {
    const char *t = tokens[i];
    size_t len = strlen(t), pos = 0;
    uint32_t c;
    int bad = len == 0 || nnrt_utf8_check(NULL, t, len, NULL);
    if (!bad && kind == NNRT_TOKENS_CHARS)
      bad = nnrt__utf8_next(t, len, &pos, &c) != NULL || pos != len;
    if (!bad && kind == NNRT_TOKENS_WORDS)
      for (; pos < len && !bad; bad = is_space(c)) nnrt__utf8_next(t, len, &pos, &c);
    if (!bad &&
        kind ==
            NNRT_TOKENS_BABI) { /* answers such as "n,w" are one token: only the ends are checked */
      const char *tk;
      bad = nnrt__babi_next(t, len, &pos, &tk) == 0 || tk != t || t[len - 1] == ' ' ||
            (t[len - 1] >= '\t' && t[len - 1] <= '\r');
    }
    if (bad) {
      nnrt_vocab_free(v);
      return nnrt__fail(err, "token %d is not a %s", i,
                        kind == NNRT_TOKENS_CHARS ? "single character" : "word");
    }
  }
  v->counts = calloc((size_t)n, sizeof *v->counts);
  v->table_size = 16;
  while (v->table_size < 2u * (uint32_t)n) v->table_size *= 2;
  v->table = malloc((size_t)v->table_size * sizeof *v->table);
  if (!v->counts || !v->table) {
    nnrt_vocab_free(v);
    return nnrt__fail(err, "out of memory");
  }
  memset(v->table, 0xff, (size_t)v->table_size * sizeof *v->table);
  for (int32_t id = first; id < n; id++) {
    int32_t dup = nnrt_vocab_id(v, tokens[id], strlen(tokens[id]));
    if (dup >= 0) {
      nnrt__fail(err, "tokens %d and %d are both '%s'", dup, id, tokens[id]);
      nnrt_vocab_free(v);
      return 1;
    }
    table_insert(v->table, v->table_size, v->tokens, id);
  }
  return 0;
}

/* ---- datasets from token streams ---- */

static int stream_dataset(nnrt_dataset *ds, const int32_t *ids, int64_t n, int64_t len, int windows,
                          nnrt_error *err) {
  memset(ds, 0, sizeof *ds);
  const char *what = windows ? "windows" : "sequences";
  if (len <= 0)
    return nnrt__fail(err, "%s of %lld tokens: the length must be positive", what, (long long)len);
  if (n < len + 1)
    return nnrt__fail(err,
                      "the corpus has %lld tokens, too few for %s of %lld: it needs at least %lld",
                      (long long)n, what, (long long)len, (long long)len + 1);
  int64_t count = windows ? n - len : (n - 1) / len;
  int32_t dtypes[2] = {NNRT_I32, NNRT_I32};
  int64_t sizes[2] = {len, windows ? 1 : len};
  if (nnrt_dataset_alloc(ds, count, 2, dtypes, sizes, err)) return 1;
  int32_t *x = ds->fields[0].data, *y = ds->fields[1].data;
  for (int64_t i = 0; i < count; i++) {
    int64_t start = windows ? i : i * len;
    memcpy(x + i * len, ids + start, (size_t)len * sizeof *x);
    if (windows)
      y[i] = ids[start + len];
    else
      memcpy(y + i * len, ids + start + 1, (size_t)len * sizeof *y);
  }
  return 0;
}

int nnrt_dataset_windows(nnrt_dataset *ds, const int32_t *ids, int64_t n, int64_t window,
                         nnrt_error *err) {
  return stream_dataset(ds, ids, n, window, 1, err);
}

int nnrt_dataset_sequences(nnrt_dataset *ds, const int32_t *ids, int64_t n, int64_t length,
                           nnrt_error *err) {
  return stream_dataset(ds, ids, n, length, 0, err);
}
