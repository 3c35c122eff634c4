/* csv.c: CSV files of numeric features and a string label column. The file
 * is read whole and split in place, so field strings point into one buffer. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name; /* for messages */
  char *buf;
  size_t len;
  char *pos;        /* next line */
  int line;         /* number of the line last returned, 1-based */
  char **fields;    /* fields of the last line */
  int nfields, cap;
} csv_reader;

static int read_stream(FILE *f, const char *name, char **out, size_t *len, nnrt_error *err) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) return nnrt__fail(err, "out of memory");
  for (;;) {
    if (n + 1 >= cap) {
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        return nnrt__fail(err, "out of memory reading '%s'", name);
      }
      buf = p;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    free(buf);
    return nnrt__fail(err, "cannot read '%s': %s", name, strerror(errno));
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

static int reader_open(csv_reader *r, const char *path, FILE *f, nnrt_error *err) {
  memset(r, 0, sizeof *r);
  r->name = path ? path : "<stdin>";
  int rc;
  if (f) {
    rc = read_stream(f, r->name, &r->buf, &r->len, err);
  } else {
    FILE *own = fopen(path, "rb");
    if (!own) return nnrt__fail(err, "cannot open '%s': %s", path, strerror(errno));
    rc = read_stream(own, r->name, &r->buf, &r->len, err);
    fclose(own);
  }
  if (rc) return 1;
  if (memchr(r->buf, 0, r->len)) {
    free(r->buf);
    return nnrt__fail(err, "%s: not a text file (it contains NUL bytes)", r->name);
  }
  r->pos = r->buf;
  return 0;
}

static void reader_close(csv_reader *r) {
  free(r->buf);
  free(r->fields);
  memset(r, 0, sizeof *r);
}

static int is_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t') return 0;
  return 1;
}

static int push_field(csv_reader *r, char *s, nnrt_error *err) {
  if (r->nfields == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    char **p = realloc(r->fields, (size_t)cap * sizeof *p);
    if (!p) return nnrt__fail(err, "out of memory");
    r->fields = p;
    r->cap = cap;
  }
  r->fields[r->nfields++] = s;
  return 0;
}

/* Splits one line in place: fields are trimmed, "quoted" fields unquoted
 * ("" is a quote). */
static int split_line(csv_reader *r, char *p, nnrt_error *err) {
  r->nfields = 0;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    char *start = p, *end;
    if (*p == '"') {
      char *w = p;
      p++;
      for (;;) {
        if (!*p) return nnrt__fail(err, "%s:%d:%d: unterminated quoted field", r->name, r->line, r->nfields + 1);
        if (*p == '"') {
          if (p[1] == '"') {
            *w++ = '"';
            p += 2;
            continue;
          }
          p++;
          break;
        }
        *w++ = *p++;
      }
      end = w;
      while (*p == ' ' || *p == '\t') p++;
      if (*p && *p != ',')
        return nnrt__fail(err, "%s:%d:%d: unexpected text after a quoted field", r->name, r->line, r->nfields + 1);
    } else {
      while (*p && *p != ',') p++;
      end = p;
      while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    }
    char sep = *p;
    *end = 0;
    if (push_field(r, start, err)) return 1;
    if (sep != ',') return 0;
    p++;
  }
}

/* Next non-blank line, split into r->fields; returns 0 at the end of the
 * file, -1 on error, 1 when a line was read. */
static int next_line(csv_reader *r, nnrt_error *err) {
  while (r->pos && r->pos < r->buf + r->len) {
    char *line = r->pos;
    char *nl = strchr(line, '\n');
    if (nl) {
      *nl = 0;
      r->pos = nl + 1;
    } else {
      r->pos = r->buf + r->len;
    }
    r->line++;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r') line[--n] = 0;
    if (is_blank(line)) continue;
    return split_line(r, line, err) ? -1 : 1;
  }
  return 0;
}

static int parse_float(const char *s, float *out) {
  if (!*s) return 1;
  char *end;
  float v = strtof(s, &end);
  if (*end || !isfinite(v)) return 1;
  *out = v;
  return 0;
}

typedef struct {
  float *p;
  size_t n, cap;
} floats;

static int floats_push(floats *v, float x) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 1024;
    float *p = realloc(v->p, cap * sizeof *p);
    if (!p) return 1;
    v->p = p;
    v->cap = cap;
  }
  v->p[v->n++] = x;
  return 0;
}

static void list_columns(char *out, size_t size, char **names, int n) {
  size_t used = 0;
  out[0] = 0;
  for (int i = 0; i < n && used + 1 < size; i++) {
    int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* Labels sort as numbers when they all are integers (as LabelEncoder does
 * on a numeric column), else as byte strings. */
static int label_cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int label_cmp_int(const void *a, const void *b) {
  long long u = strtoll(*(const char *const *)a, NULL, 10), v = strtoll(*(const char *const *)b, NULL, 10);
  return (u > v) - (u < v);
}

static int is_integer(const char *s) {
  if (*s == '-' || *s == '+') s++;
  if (!*s || strlen(s) > 18) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

int nnrt_csv_load(const char *path, const char *label_column, nnrt_dataset *out, nnrt_error *err) {
  memset(out, 0, sizeof *out);
  csv_reader r;
  if (reader_open(&r, path, NULL, err)) return 1;
  floats x = {0};
  char **labels = NULL, **classes = NULL, **header = NULL;
  size_t nlabels = 0, cap_labels = 0;
  int rc = 1;

  int got = next_line(&r, err);
  if (got < 0) goto done;
  if (got == 0) {
    nnrt__fail(err, "%s: file is empty", r.name);
    goto done;
  }
  int ncols = r.nfields, header_line = r.line;
  header = malloc((size_t)ncols * sizeof *header);
  if (!header) {
    nnrt__fail(err, "out of memory");
    goto done;
  }
  memcpy(header, r.fields, (size_t)ncols * sizeof *header);
  int label = ncols - 1;
  if (label_column) {
    label = -1;
    for (int i = 0; i < ncols; i++)
      if (strcmp(header[i], label_column) == 0) label = i;
    if (label < 0) {
      char cols[700];
      list_columns(cols, sizeof cols, header, ncols);
      nnrt__fail(err, "%s:%d: no column '%s' in the header (columns: %s)", r.name, header_line, label_column, cols);
      goto done;
    }
  }
  if (ncols < 2) {
    nnrt__fail(err, "%s:%d: need at least one feature column and a label column, found %d column%s", r.name,
               header_line, ncols, ncols == 1 ? "" : "s");
    goto done;
  }

  while ((got = next_line(&r, err)) > 0) {
    if (r.nfields != ncols) {
      nnrt__fail(err, "%s:%d: expected %d columns, found %d", r.name, r.line, ncols, r.nfields);
      goto done;
    }
    for (int c = 0; c < ncols; c++) {
      if (c == label) continue;
      float v;
      if (parse_float(r.fields[c], &v)) {
        nnrt__fail(err, "%s:%d:%d: '%s' is not a number (column '%s')", r.name, r.line, c + 1, r.fields[c], header[c]);
        goto done;
      }
      if (floats_push(&x, v)) {
        nnrt__fail(err, "out of memory");
        goto done;
      }
    }
    if (!*r.fields[label]) {
      nnrt__fail(err, "%s:%d:%d: empty label (column '%s')", r.name, r.line, label + 1, header[label]);
      goto done;
    }
    if (nlabels == cap_labels) {
      cap_labels = cap_labels ? cap_labels * 2 : 256;
      char **p = realloc(labels, cap_labels * sizeof *p);
      if (!p) {
        nnrt__fail(err, "out of memory");
        goto done;
      }
      labels = p;
    }
    labels[nlabels++] = r.fields[label];
  }
  if (got < 0) goto done;
  if (nlabels == 0) {
    nnrt__fail(err, "%s: no data rows after the header", r.name);
    goto done;
  }

  /* Class names: the sorted distinct labels. */
  classes = malloc(nlabels * sizeof *classes);
  if (!classes) {
    nnrt__fail(err, "out of memory");
    goto done;
  }
  memcpy(classes, labels, nlabels * sizeof *classes);
  int numeric = 1;
  for (size_t i = 0; i < nlabels && numeric; i++) numeric = is_integer(labels[i]);
  int (*label_cmp)(const void *, const void *) = numeric ? label_cmp_int : label_cmp_str;
  qsort(classes, nlabels, sizeof *classes, label_cmp);
  size_t nclasses = 0;
  for (size_t i = 0; i < nlabels; i++)
    if (nclasses == 0 || label_cmp(&classes[nclasses - 1], &classes[i]) != 0) classes[nclasses++] = classes[i];

  int nfeat = ncols - 1;
  int32_t dtypes[2] = {NNRT_F32, NNRT_I32};
  int64_t sizes[2] = {nfeat, 1};
  if (nnrt_dataset_alloc(out, (int64_t)nlabels, 2, dtypes, sizes, err)) goto done;
  memcpy(out->fields[0].data, x.p, x.n * sizeof(float));
  int32_t *y = out->fields[1].data;
  for (size_t i = 0; i < nlabels; i++) {
    char **hit = bsearch(&labels[i], classes, nclasses, sizeof *classes, label_cmp);
    y[i] = (int32_t)(hit - classes);
  }
  char **feat = header;  /* drop the label column from the names */
  out->label_name = nnrt__strdup(header[label]);
  memmove(feat + label, feat + label + 1, (size_t)(ncols - label - 1) * sizeof *feat);
  if (!out->label_name) {
    nnrt_dataset_free(out);
    nnrt__fail(err, "out of memory");
    goto done;
  }
  if (nnrt_dataset_set_class_names(out, (const char *const *)classes, (int)nclasses, err) ||
      nnrt_dataset_set_feature_names(out, (const char *const *)feat, nfeat, err)) {
    nnrt_dataset_free(out);
    goto done;
  }
  rc = 0;
done:
  free(x.p);
  free(labels);
  free(classes);
  free(header);
  reader_close(&r);
  return rc;
}

int nnrt_csv_load_features(const char *path, FILE *f, const char *ignore_column, nnrt_dataset *out,
                           nnrt_error *err) {
  memset(out, 0, sizeof *out);
  csv_reader r;
  if (reader_open(&r, path, f, err)) return 1;
  floats x = {0};
  char **header = NULL;
  int rc = 1, ncols, ignore = -1, has_header = 0;
  int64_t rows = 0;

  int got = next_line(&r, err);
  if (got < 0) goto done;
  if (got == 0) {
    nnrt__fail(err, "%s: no rows", r.name);
    goto done;
  }
  ncols = r.nfields;
  for (int c = 0; c < ncols; c++) {
    float v;
    if (parse_float(r.fields[c], &v)) has_header = 1;
  }
  if (has_header) {
    header = malloc((size_t)ncols * sizeof *header);
    if (!header) {
      nnrt__fail(err, "out of memory");
      goto done;
    }
    memcpy(header, r.fields, (size_t)ncols * sizeof *header);
    for (int c = 0; ignore_column && c < ncols; c++)
      if (strcmp(header[c], ignore_column) == 0) ignore = c;
    got = next_line(&r, err);
  }
  if (ncols - (ignore >= 0) < 1) {
    nnrt__fail(err, "%s:%d: no feature columns", r.name, r.line);
    goto done;
  }
  for (; got > 0; got = next_line(&r, err)) {
    if (r.nfields != ncols) {
      nnrt__fail(err, "%s:%d: expected %d columns, found %d", r.name, r.line, ncols, r.nfields);
      goto done;
    }
    for (int c = 0; c < ncols; c++) {
      if (c == ignore) continue;
      float v;
      if (parse_float(r.fields[c], &v)) {
        if (header)
          nnrt__fail(err, "%s:%d:%d: '%s' is not a number (column '%s')", r.name, r.line, c + 1, r.fields[c],
                     header[c]);
        else
          nnrt__fail(err, "%s:%d:%d: '%s' is not a number", r.name, r.line, c + 1, r.fields[c]);
        goto done;
      }
      if (floats_push(&x, v)) {
        nnrt__fail(err, "out of memory");
        goto done;
      }
    }
    rows++;
  }
  if (got < 0) goto done;
  if (rows == 0) {
    nnrt__fail(err, "%s: no data rows", r.name);
    goto done;
  }
  int nfeat = ncols - (ignore >= 0);
  int32_t dtype = NNRT_F32;
  int64_t size = nfeat;
  if (nnrt_dataset_alloc(out, rows, 1, &dtype, &size, err)) goto done;
  memcpy(out->fields[0].data, x.p, x.n * sizeof(float));
  if (header) {
    if (ignore >= 0) memmove(header + ignore, header + ignore + 1, (size_t)(ncols - ignore - 1) * sizeof *header);
    if (nnrt_dataset_set_feature_names(out, (const char *const *)header, nfeat, err)) {
      nnrt_dataset_free(out);
      goto done;
    }
  }
  rc = 0;
done:
  free(x.p);
  free(header);
  reader_close(&r);
  return rc;
}
