/* safetensors.c: checkpoints in the safetensors format
 * (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the raw data. Readers elsewhere (Python's safetensors) insist
 * that the byte ranges tile the data exactly, so we write them back to back. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The safetensors library refuses headers above 100 MB; so do we, so a
 * corrupt length cannot make us allocate gigabytes. */
#define MAX_HEADER (100u * 1000u * 1000u)

int nnrt_metadata_set(nnrt_metadata *md, const char *key, const char *value) {
  char *v = nnrt__strdup(value);
  if (!v) return 1;
  for (int i = 0; i < md->count; i++)
    if (strcmp(md->keys[i], key) == 0) {
      free(md->values[i]);
      md->values[i] = v;
      return 0;
    }
  char *k = nnrt__strdup(key);
  char **ks = realloc(md->keys, (size_t)(md->count + 1) * sizeof *ks);
  if (ks) md->keys = ks;
  char **vs = realloc(md->values, (size_t)(md->count + 1) * sizeof *vs);
  if (vs) md->values = vs;
  if (!k || !ks || !vs) {
    free(k);
    free(v);
    return 1;
  }
  md->keys[md->count] = k;
  md->values[md->count] = v;
  md->count++;
  return 0;
}

const char *nnrt_metadata_get(const nnrt_metadata *md, const char *key) {
  for (int i = 0; md && i < md->count; i++)
    if (strcmp(md->keys[i], key) == 0) return md->values[i];
  return NULL;
}

void nnrt_metadata_free(nnrt_metadata *md) {
  if (!md) return;
  nnrt_free_strings(md->keys, md->count);
  nnrt_free_strings(md->values, md->count);
  memset(md, 0, sizeof *md);
}

static void put_tensor_entry(nnrt__buf *b, const char *name, const int64_t *shape, int rank,
                             int64_t begin, int64_t end) {
  nnrt__buf_puts(b, ",");
  nnrt__buf_json_string(b, name);
  nnrt__buf_puts(b, ":{\"dtype\":\"F32\",\"shape\":[");
  for (int d = 0; d < rank; d++) nnrt__buf_printf(b, "%s%lld", d ? "," : "", (long long)shape[d]);
  nnrt__buf_printf(b, "],\"data_offsets\":[%lld,%lld]}", (long long)begin, (long long)end);
}

int nnrt_checkpoint_save(const char *path, const nnrt_model *m, const float *params,
                         const float *opt_state, const nnrt_metadata *md, nnrt_error *err) {
  if (nnrt_model_check(m, err)) return 1;
  nnrt__buf h = {0};
  nnrt__buf_puts(&h, "{\"__metadata__\":{\"" NNRT_META_MODEL "\":");
  nnrt__buf_json_string(&h, m->name);
  for (int i = 0; md && i < md->count; i++) {
    if (strcmp(md->keys[i], NNRT_META_MODEL) == 0) continue;
    nnrt__buf_puts(&h, ",");
    nnrt__buf_json_string(&h, md->keys[i]);
    nnrt__buf_puts(&h, ":");
    nnrt__buf_json_string(&h, md->values[i]);
  }
  nnrt__buf_puts(&h, "}");
  int64_t at = 0;
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role != NNRT_PARAM) continue;
    put_tensor_entry(&h, t->name, t->shape, t->rank, at, at + 4 * t->size);
    at += 4 * t->size;
  }
  int with_opt = opt_state && m->opt_state_size > 0;
  if (with_opt)
    put_tensor_entry(&h, NNRT_OPT_STATE_TENSOR, &m->opt_state_size, 1, at,
                     at + 4 * m->opt_state_size);
  nnrt__buf_puts(&h, "}");
  /* Pad with spaces so the data starts 8-byte aligned (the spec allows it,
   * and it lets readers map the tensors in place). */
  while (!h.oom && h.len % 8) nnrt__buf_puts(&h, " ");
  if (h.oom) {
    free(h.p);
    return nnrt__fail(err, "out of memory");
  }

  nnrt__afile a;
  if (nnrt__afile_open(&a, path, err)) {
    free(h.p);
    return 1;
  }
  unsigned char len8[8];
  uint64_t n = h.len;
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(n >> (8 * i));
  nnrt__afile_write(&a, len8, 8);
  nnrt__afile_write(&a, h.p, h.len);
  free(h.p);
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role == NNRT_PARAM) nnrt__afile_write(&a, params + t->offset, (size_t)t->size * 4);
  }
  if (with_opt) nnrt__afile_write(&a, opt_state, (size_t)m->opt_state_size * 4);
  return nnrt__afile_commit(&a, err);
}

static int dtype_bytes(const char *d) {
  static const struct {
    const char *name;
    int bytes;
  } k[] = {{"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2},    {"I64", 8},
           {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U64", 8},     {"U32", 4},
           {"U16", 2}, {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    if (strcmp(d, k[i].name) == 0) return k[i].bytes;
  return 0;
}

/* A checked view of one header entry. */
typedef struct {
  const char *name, *dtype;
  int rank;
  int64_t shape[NNRT_MAX_RANK];
  int64_t begin, end;
} entry;

static void format_shape(char *out, size_t size, const int64_t *shape, int rank) {
  size_t used = (size_t)snprintf(out, size, "[");
  for (int d = 0; d < rank && used < size; d++)
    used += (size_t)snprintf(out + used, size - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
  if (used < size) snprintf(out + used, size - used, "]");
}

static int check_entry(const char *key, const nnrt__json *v, uint64_t data_size, entry *e,
                       nnrt_error *err) {
  memset(e, 0, sizeof *e);
  e->name = key;
  const nnrt__json *dt = nnrt__json_get(v, "dtype"), *sh = nnrt__json_get(v, "shape"),
                   *off = nnrt__json_get(v, "data_offsets");
  if (!dt || dt->type != NNRT__J_STR || !sh || sh->type != NNRT__J_ARR || !off ||
      off->type != NNRT__J_ARR || off->n != 2)
    return nnrt__fail(err, "tensor '%s' lacks dtype, shape or data_offsets", key);
  e->dtype = dt->str;
  if (sh->n > NNRT_MAX_RANK) return nnrt__fail(err, "tensor '%s' has rank %d", key, sh->n);
  e->rank = sh->n;
  for (int d = 0; d < sh->n; d++) {
    const nnrt__json *x = &sh->kids[d];
    if (x->type != NNRT__J_NUM || !x->is_int || x->i < 0)
      return nnrt__fail(
          err, "tensor '%s' has a bad shape: dimension %d is not a non-negative integer", key, d);
    e->shape[d] = x->i;
  }
  /* The element count, checked before each product: [2^40, 2^40] used to
   * wrap around to 0 and read as "its shape and dtype need 0" bytes. */
  const uint64_t max_count = (uint64_t)1 << 50;
  uint64_t count = 1;
  for (int d = 0; d < sh->n; d++)
    if (e->shape[d] == 0) count = 0;
  for (int d = 0; d < sh->n && count; d++) {
    uint64_t x = (uint64_t)e->shape[d];
    if (x > max_count / count) {
      char shape[160];
      format_shape(shape, sizeof shape, e->shape, e->rank);
      return nnrt__fail(err,
                        "tensor '%s' has shape %s, which is too large (more than 2^50 elements)",
                        key, shape);
    }
    count *= x;
  }
  for (int k = 0; k < 2; k++)
    if (off->kids[k].type != NNRT__J_NUM || !off->kids[k].is_int || off->kids[k].i < 0)
      return nnrt__fail(err, "tensor '%s' has bad data_offsets", key);
  e->begin = off->kids[0].i;
  e->end = off->kids[1].i;
  if (e->begin > e->end || (uint64_t)e->end > data_size)
    return nnrt__fail(
        err,
        "tensor '%s' has data_offsets [%lld, %lld] outside the %llu data bytes (truncated file?)",
        key, (long long)e->begin, (long long)e->end, (unsigned long long)data_size);
  int bytes = dtype_bytes(e->dtype);
  if (bytes && (uint64_t)(e->end - e->begin) != count * (uint64_t)bytes)
    return nnrt__fail(err, "tensor '%s' has %lld data bytes, its shape and dtype need %llu", key,
                      (long long)(e->end - e->begin),
                      (unsigned long long)(count * (uint64_t)bytes));
  return 0;
}

/* fopen opens a directory for reading, and its size reads as LONG_MAX:
 * say what it is instead of "only 9223372036854775807 bytes". */
static int not_a_file(FILE *f, const char *path, nnrt_error *err) {
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || S_ISREG(st.st_mode)) return 0;
  return nnrt__fail(
      err, "checkpoint '%s' is %s; expected a safetensors file (written by nnc train --save)", path,
      S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
}

/* NaN or Inf weights predict nan and train to nan: such a checkpoint comes
 * from a run that diverged, and is refused rather than used. */
static int check_finite(const float *v, int64_t n, const char *what, const char *path,
                        nnrt_error *err) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return nnrt__fail(
          err,
          "checkpoint '%s': %s has a non-finite value (%s at index %lld); expected finite "
          "values (was it saved by a run that diverged?)",
          path, what,
          isnan(v[i]) ? "nan"
          : v[i] > 0  ? "inf"
                      : "-inf",
          (long long)i);
  return 0;
}

/* One load in progress: the open file, its parsed header and what was
 * checked so far. load frees it all, whether it succeeds or not. */
typedef struct {
  const char *path;
  FILE *f;
  uint64_t hlen, data_size;
  char *header;
  nnrt__json j;
  nnrt_metadata got;
  entry *entries;
  int nentries;
  const entry *opt;
} reader;

/* The 8-byte length, the JSON header and what the data bytes after it are. */
static int read_header(reader *r, nnrt_error *err) {
  const char *path = r->path;
  if (fseek(r->f, 0, SEEK_END) != 0)
    return nnrt__fail(err, "cannot read '%s': %s", path, strerror(errno));
  long file_size = ftell(r->f);
  rewind(r->f);
  unsigned char len8[8];
  if (file_size < 8 || fread(len8, 1, 8, r->f) != 8)
    return nnrt__fail(err, "checkpoint '%s' is not a safetensors file (only %ld bytes)", path,
                      file_size);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
  if (hlen > MAX_HEADER || hlen > (uint64_t)file_size - 8 || hlen < 2)
    return nnrt__fail(
        err, "checkpoint '%s' is not a safetensors file (header length %llu, file size %ld)", path,
        (unsigned long long)hlen, file_size);
  r->hlen = hlen;
  r->header = malloc(hlen);
  if (!r->header) return nnrt__fail(err, "out of memory");
  if (fread(r->header, 1, hlen, r->f) != hlen)
    return nnrt__fail(err, "cannot read '%s': %s", path, strerror(errno));
  if (r->header[0] != '{')
    return nnrt__fail(err, "checkpoint '%s' is not a safetensors file (no JSON header)", path);
  if (nnrt__json_parse(r->header, hlen, &r->j, err)) {
    nnrt__prefix(err, "checkpoint '%s' is not a safetensors file", path);
    return 1;
  }
  if (r->j.type != NNRT__J_OBJ)
    return nnrt__fail(err, "checkpoint '%s' is not a safetensors file (header is not an object)",
                      path);
  r->data_size = (uint64_t)file_size - 8 - hlen;
  return 0;
}

/* __metadata__ into r->got; unless partial, the model it names must be m. */
static int read_metadata(reader *r, const nnrt_model *m, int partial, nnrt_error *err) {
  const char *path = r->path;
  const nnrt__json *meta = nnrt__json_get(&r->j, "__metadata__");
  if (meta) {
    if (meta->type != NNRT__J_OBJ)
      return nnrt__fail(
          err, "checkpoint '%s' is not a safetensors file (__metadata__ is not an object)", path);
    for (int i = 0; i < meta->n; i++) {
      if (meta->kids[i].type != NNRT__J_STR)
        return nnrt__fail(err, "checkpoint '%s': metadata '%s' is not a string", path,
                          meta->keys[i]);
      if (nnrt_metadata_set(&r->got, meta->keys[i], meta->kids[i].str))
        return nnrt__fail(err, "out of memory");
    }
  }
  const char *model_name = nnrt_metadata_get(&r->got, NNRT_META_MODEL);
  if (!partial && model_name && strcmp(model_name, m->name) != 0)
    return nnrt__fail(err, "checkpoint '%s' is for model '%s', not '%s'", path, model_name,
                      m->name);
  return 0;
}

/* Every tensor entry checked into r->entries (the optimizer state's in
 * r->opt); a tensor the model lacks is an error unless partial. */
static int read_entries(reader *r, const nnrt_model *m, int partial, int *unused, nnrt_error *err) {
  const char *path = r->path;
  r->entries = calloc((size_t)r->j.n + 1, sizeof *r->entries);
  if (!r->entries) return nnrt__fail(err, "out of memory");
  for (int i = 0; i < r->j.n; i++) {
    if (strcmp(r->j.keys[i], "__metadata__") == 0) continue;
    entry *e = &r->entries[r->nentries++];
    if (check_entry(r->j.keys[i], &r->j.kids[i], r->data_size, e, err)) {
      nnrt__prefix(err, "checkpoint '%s' is corrupt", path);
      return 1;
    }
    if (strcmp(e->name, NNRT_OPT_STATE_TENSOR) == 0) {
      r->opt = e;
      continue;
    }
    int known = 0;
    for (int t = 0; t < m->num_tensors && !known; t++)
      known = m->tensors[t].role == NNRT_PARAM && strcmp(m->tensors[t].name, e->name) == 0;
    if (!known && partial) {
      if (unused) (*unused)++;
      continue;
    }
    if (!known)
      return nnrt__fail(err, "checkpoint '%s' has a tensor '%s' that model '%s' does not have",
                        path, e->name, m->name);
  }
  return 0;
}

/* Parameter ti from entry e into new_params, after checking its dtype and
 * shape against the model's. */
static int read_param(reader *r, const nnrt_tensor_info *ti, const entry *e, float *new_params,
                      int partial, nnrt_error *err) {
  const char *path = r->path;
  if (strcmp(e->dtype, "F32") != 0)
    return nnrt__fail(err,
                      "checkpoint '%s': '%s' has dtype %s in the checkpoint, the model expects F32",
                      path, ti->name, e->dtype);
  int same = e->rank == ti->rank;
  for (int d = 0; same && d < ti->rank; d++) same = e->shape[d] == ti->shape[d];
  if (!same) {
    char have[160], want[160];
    format_shape(have, sizeof have, e->shape, e->rank);
    format_shape(want, sizeof want, ti->shape, ti->rank);
    return nnrt__fail(
        err, "checkpoint '%s': '%s' has shape %s in the checkpoint, the model expects %s%s", path,
        ti->name, have, want,
        partial ? " (parameters are loaded by name: give this one another name, or the same shape)"
                : "");
  }
  if (fseek(r->f, (long)(8 + r->hlen + (uint64_t)e->begin), SEEK_SET) != 0 ||
      fread(new_params + ti->offset, 4, (size_t)ti->size, r->f) != (size_t)ti->size)
    return nnrt__fail(err, "cannot read '%s' from '%s'", ti->name, path);
  char what[300];
  snprintf(what, sizeof what, "tensor '%s'", ti->name);
  return check_finite(new_params + ti->offset, ti->size, what, path, err);
}

/* Every parameter of m into new_params (which starts as a copy of the
 * caller's): a missing one is an error unless partial, and keeps its value. */
static int read_params(reader *r, const nnrt_model *m, float *new_params, int partial, int *loaded,
                       nnrt_error *err) {
  for (int t = 0; t < m->num_tensors; t++) {
    const nnrt_tensor_info *ti = &m->tensors[t];
    if (ti->role != NNRT_PARAM) continue;
    const entry *e = NULL;
    for (int k = 0; k < r->nentries && !e; k++)
      if (strcmp(r->entries[k].name, ti->name) == 0) e = &r->entries[k];
    if (partial) loaded[t] = e != NULL;
    if (!e && partial) continue; /* it keeps its initial value */
    if (!e) return nnrt__fail(err, "checkpoint '%s' has no tensor '%s'", r->path, ti->name);
    if (read_param(r, ti, e, new_params, partial, err)) return 1;
  }
  return 0;
}

/* The optimizer state, when the checkpoint has one of the size m needs:
 * *new_opt is left NULL otherwise. */
static int read_opt_state(reader *r, const nnrt_model *m, float **new_opt, nnrt_error *err) {
  const entry *opt = r->opt;
  if (!opt || strcmp(opt->dtype, "F32") != 0 || opt->end - opt->begin != 4 * m->opt_state_size)
    return 0;
  *new_opt = malloc((size_t)m->opt_state_size * sizeof(float));
  if (!*new_opt) return nnrt__fail(err, "out of memory");
  if (fseek(r->f, (long)(8 + r->hlen + (uint64_t)opt->begin), SEEK_SET) != 0 ||
      fread(*new_opt, 4, (size_t)m->opt_state_size, r->f) != (size_t)m->opt_state_size)
    return nnrt__fail(err, "cannot read the optimizer state from '%s'", r->path);
  return check_finite(*new_opt, m->opt_state_size, "the optimizer state", r->path, err);
}

/* The one reader of checkpoints. partial (nnrt_checkpoint_load_matching):
 * any model's checkpoint, parameters taken by name where they exist
 * (loaded[t] says which), other tensors skipped (*unused counts them). */
static int load(const char *path, const nnrt_model *m, float *params, float *opt_state,
                int *opt_restored, nnrt_metadata *md, int partial, int *loaded, int *unused,
                nnrt_error *err) {
  if (opt_restored) *opt_restored = 0;
  if (unused) *unused = 0;
  if (nnrt_model_check(m, err)) return 1;
  FILE *f = fopen(path, "rb");
  if (!f) return nnrt__fail(err, "cannot open '%s': %s", path, strerror(errno));
  if (not_a_file(f, path, err)) {
    fclose(f);
    return 1;
  }

  int rc = 1;
  reader r = {0};
  r.path = path;
  r.f = f;
  float *new_params = NULL, *new_opt = NULL;
  if (read_header(&r, err) || read_metadata(&r, m, partial, err) ||
      read_entries(&r, m, partial, unused, err))
    goto done;
  new_params = malloc((size_t)(m->num_params ? m->num_params : 1) * sizeof(float));
  if (!new_params) {
    nnrt__fail(err, "out of memory");
    goto done;
  }
  memcpy(new_params, params, (size_t)m->num_params * sizeof(float));
  if (read_params(&r, m, new_params, partial, loaded, err)) goto done;
  if (opt_state && m->opt_state_size > 0 && read_opt_state(&r, m, &new_opt, err)) goto done;

  /* Everything checked and read: only now touch the caller's buffers. */
  memcpy(params, new_params, (size_t)m->num_params * sizeof(float));
  if (opt_state && m->opt_state_size > 0) {
    if (new_opt)
      memcpy(opt_state, new_opt, (size_t)m->opt_state_size * sizeof(float));
    else
      memset(opt_state, 0, (size_t)m->opt_state_size * sizeof(float));
  }
  if (opt_restored) *opt_restored = new_opt != NULL;
  if (md) {
    nnrt_metadata_free(md);
    *md = r.got;
    memset(&r.got, 0, sizeof r.got);
  }
  rc = 0;
done:
  fclose(f);
  free(r.header);
  free(new_params);
  free(new_opt);
  free(r.entries);
  nnrt__json_free(&r.j);
  nnrt_metadata_free(&r.got);
  return rc;
}

int nnrt_checkpoint_load(const char *path, const nnrt_model *m, float *params, float *opt_state,
                         int *opt_restored, nnrt_metadata *md, nnrt_error *err) {
  return load(path, m, params, opt_state, opt_restored, md, 0, NULL, NULL, err);
}

int nnrt_checkpoint_load_matching(const char *path, const nnrt_model *m, float *params, int *loaded,
                                  int *unused, nnrt_metadata *md, nnrt_error *err) {
  for (int t = 0; t < m->num_tensors; t++) loaded[t] = 0;
  return load(path, m, params, NULL, NULL, md, 1, loaded, unused, err);
}
