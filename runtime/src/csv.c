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
  char *pos;     /* next line */
  int line;      /* number of the line last returned, 1-based */
  char **fields; /* fields of the last line */
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
        if (!*p)
          return nnrt__fail(err, "%s:%d:%d: unterminated quoted field", r->name, r->line,
                            r->nfields + 1);
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
        return nnrt__fail(err, "%s:%d:%d: unexpected text after a quoted field", r->name, r->line,
                          r->nfields + 1);
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

/* ---- numbers -------------------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int starts_with_nocase(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++)
    if ((*s | 0x20) != *prefix) return 0;
  return 1;
}

/* Decimal only: [+-] digits [. digits] [e [+-] digits]. strtof alone also
 * reads hex ("0x10" is 16), "inf" and "nan", which in a data file are
 * mistakes far more often than values. Returns NULL, or why s is not one
 * ("" when nothing more specific can be said). */
static const char *decimal_problem(const char *s) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return "hexadecimal numbers are not read";
  if (starts_with_nocase(p, "inf") || starts_with_nocase(p, "nan"))
    return "infinity and NaN are not accepted";
  int digits = 0;
  for (; is_digit(*p); p++) digits++;
  if (*p == '.')
    for (p++; is_digit(*p); p++) digits++;
  if (!digits) return "";
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!is_digit(*p)) return "";
    while (is_digit(*p)) p++;
  }
  return *p ? "" : NULL;
}

/* Returns NULL and sets *out, or why s is not a float32 value. */
static const char *parse_float(const char *s, float *out) {
  if (!*s) return "the field is empty";
  const char *why = decimal_problem(s);
  if (why) return why;
  float v = strtof(s, NULL);
  if (!isfinite(v)) return "it is out of the float32 range";
  *out = v;
  return NULL;
}

/* Anything strtod reads whole: a first line of such fields is data, not a
 * header (a "0x10" there is then reported as a bad number). */
static int looks_numeric(const char *s) {
  char *end;
  if (!*s) return 0;
  (void)strtod(s, &end);
  return *end == 0;
}

static int number_error(const csv_reader *r, int c, const char *column, const char *why,
                        nnrt_error *err) {
  char col[256] = "";
  if (column) snprintf(col, sizeof col, " (column '%.200s')", column);
  return nnrt__fail(
      err, "%s:%d:%d: '%s' is not a number%s: %s%sexpected a decimal number like 5, -0.25 or 1e-3",
      r->name, r->line, c + 1, r->fields[c], col, why, *why ? "; " : "");
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

/* Appends the fields of the current line as floats, except the columns
 * whose `skip` entry is set (skip may be NULL). */
static int push_features(const csv_reader *r, floats *x, const unsigned char *skip, char **header,
                         nnrt_error *err) {
  for (int c = 0; c < r->nfields; c++) {
    if (skip && skip[c]) continue;
    float v;
    const char *why = parse_float(r->fields[c], &v);
    if (why) return number_error(r, c, header ? header[c] : NULL, why, err);
    if (floats_push(x, v)) return nnrt__fail(err, "out of memory");
  }
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

/* ---- training files --------------------------------------------------------- */

/* A training file being read: its header, features and labels (or float
 * targets). */
typedef struct {
  csv_reader r;
  char **header;
  int ncols, label, header_line; /* label: -1 with float targets */
  unsigned char *skip;           /* the columns that are not features */
  int *targets, ntargets;        /* float target columns, in the given order */
  floats x, y;
  char **labels; /* each row's label field (pointing into r.buf) */
  int *lines;    /* and its line */
  size_t n, cap;
} train_file;

/* The header's column `name`, or -1 after an error naming the columns. */
static int find_column(const train_file *t, const char *name, nnrt_error *err) {
  for (int i = 0; i < t->ncols; i++)
    if (strcmp(t->header[i], name) == 0) return i;
  char cols[700];
  list_columns(cols, sizeof cols, t->header, t->ncols);
  nnrt__fail(err, "%s:%d: no column '%s' in the header (columns: %s)", t->r.name, t->header_line,
             name, cols);
  return -1;
}

/* Float targets (regression): the named columns, each once. */
static int find_targets(train_file *t, const nnrt_csv_options *opt, nnrt_error *err) {
  t->targets = malloc((size_t)opt->num_targets * sizeof *t->targets);
  if (!t->targets) return nnrt__fail(err, "out of memory");
  for (int k = 0; k < opt->num_targets; k++) {
    int c = find_column(t, opt->targets[k], err);
    if (c < 0) return 1;
    if (t->skip[c])
      return nnrt__fail(err, "%s:%d: column '%s' is named twice as a target", t->r.name,
                        t->header_line, opt->targets[k]);
    t->skip[c] = 1;
    t->targets[t->ntargets++] = c;
  }
  return 0;
}

static int read_header(train_file *t, const nnrt_csv_options *opt, nnrt_error *err) {
  csv_reader *r = &t->r;
  int got = next_line(r, err);
  if (got < 0) return 1;
  if (got == 0) return nnrt__fail(err, "%s: file is empty", r->name);
  t->ncols = r->nfields;
  t->header_line = r->line;
  t->header = malloc((size_t)t->ncols * sizeof *t->header);
  t->skip = calloc((size_t)t->ncols, 1);
  if (!t->header || !t->skip) return nnrt__fail(err, "out of memory");
  memcpy(t->header, r->fields, (size_t)t->ncols * sizeof *t->header);
  t->label = -1;
  if (opt->num_targets > 0) {
    if (find_targets(t, opt, err)) return 1;
  } else {
    t->label = opt->label_column ? find_column(t, opt->label_column, err) : t->ncols - 1;
    if (t->label < 0) return 1;
    t->skip[t->label] = 1;
    if (opt->label_is_target) { /* one float target, read like the others */
      if (!(t->targets = malloc(sizeof *t->targets))) return nnrt__fail(err, "out of memory");
      t->targets[t->ntargets++] = t->label;
      t->label = -1;
    }
  }
  int ntarget = t->label >= 0 ? 1 : t->ntargets;
  if (t->ncols - ntarget < 1)
    return nnrt__fail(
        err, "%s:%d: need at least one feature column and a %s column, found %d column%s", r->name,
        t->header_line, t->label >= 0 ? "label" : "target", t->ncols, t->ncols == 1 ? "" : "s");
  return 0;
}

static int push_label(train_file *t, char *s, nnrt_error *err) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    char **p = realloc(t->labels, cap * sizeof *p);
    if (p) t->labels = p;
    int *q = p ? realloc(t->lines, cap * sizeof *q) : NULL;
    if (!q) return nnrt__fail(err, "out of memory");
    t->lines = q;
    t->cap = cap;
  }
  t->labels[t->n] = s;
  t->lines[t->n++] = t->r.line;
  return 0;
}

static int push_targets(train_file *t, nnrt_error *err) {
  for (int k = 0; k < t->ntargets; k++) {
    int c = t->targets[k];
    float v;
    const char *why = parse_float(t->r.fields[c], &v);
    if (why) return number_error(&t->r, c, t->header[c], why, err);
    if (floats_push(&t->y, v)) return nnrt__fail(err, "out of memory");
  }
  t->n++;
  return 0;
}

static int read_rows(train_file *t, nnrt_error *err) {
  csv_reader *r = &t->r;
  int got;
  while ((got = next_line(r, err)) > 0) {
    if (r->nfields != t->ncols)
      return nnrt__fail(err, "%s:%d: expected %d columns, found %d", r->name, r->line, t->ncols,
                        r->nfields);
    if (push_features(r, &t->x, t->skip, t->header, err)) return 1;
    if (t->label < 0) {
      if (push_targets(t, err)) return 1;
      continue;
    }
    if (!*r->fields[t->label])
      return nnrt__fail(err, "%s:%d:%d: empty label (column '%s')", r->name, r->line, t->label + 1,
                        t->header[t->label]);
    if (push_label(t, r->fields[t->label], err)) return 1;
  }
  if (got < 0) return 1;
  if (t->n == 0) return nnrt__fail(err, "%s: no data rows after the header", r->name);
  return 0;
}

static int is_integer(const char *s) {
  if (*s == '-' || *s == '+') s++;
  if (!*s || strlen(s) > 18) return 0;
  for (; *s; s++)
    if (!is_digit(*s)) return 0;
  return 1;
}

/* Integer labels are the class ids themselves, as PyTorch's cross_entropy
 * reads them: renumbering {0, 2} to {0, 1} would train another problem. */
static int int_labels(const train_file *t, int64_t num_classes, int32_t *y, nnrt_error *err) {
  for (size_t i = 0; i < t->n; i++) {
    long long v = strtoll(t->labels[i], NULL, 10);
    const char *col = t->header[t->label];
    if (v < 0)
      return nnrt__fail(err,
                        "%s:%d:%d: label %lld (column '%s') is not a class id: integer labels are "
                        "class ids 0, 1, ...",
                        t->r.name, t->lines[i], t->label + 1, v, col);
    if (num_classes > 0 && v >= num_classes)
      return nnrt__fail(
          err,
          "%s:%d:%d: label %lld (column '%s') is out of range: the model has %lld classes, so "
          "integer labels must be 0..%lld",
          t->r.name, t->lines[i], t->label + 1, v, col, (long long)num_classes,
          (long long)num_classes - 1);
    if (v > INT32_MAX)
      return nnrt__fail(err, "%s:%d:%d: label %lld (column '%s') is too large for a class id",
                        t->r.name, t->lines[i], t->label + 1, v, col);
    y[i] = (int32_t)v;
  }
  return 0;
}

static int label_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first row whose class is past the model's, named with the count. */
static int too_many_classes(const train_file *t, char **classes, size_t nclasses,
                            int64_t num_classes, const int32_t *y, nnrt_error *err) {
  size_t i = 0;
  while (i < t->n && y[i] < num_classes) i++;
  char names[400];
  list_columns(names, sizeof names, classes, (int)(nclasses < 40 ? nclasses : 40));
  return nnrt__fail(
      err,
      "%s:%d:%d: column '%s' has %zu distinct labels but the model has %lld classes: '%s' here "
      "is class %d (labels sorted: %s%s)",
      t->r.name, t->lines[i], t->label + 1, t->header[t->label], nclasses, (long long)num_classes,
      t->labels[i], (int)y[i], names, nclasses > 40 ? ", ..." : "");
}

/* String labels are named in sorted (byte) order, like LabelEncoder; the
 * names go with the dataset so that predict can print them. */
static int string_labels(const train_file *t, int64_t num_classes, int32_t *y, nnrt_dataset *out,
                         nnrt_error *err) {
  char **classes = malloc(t->n * sizeof *classes);
  if (!classes) return nnrt__fail(err, "out of memory");
  memcpy(classes, t->labels, t->n * sizeof *classes);
  qsort(classes, t->n, sizeof *classes, label_cmp);
  size_t nclasses = 0;
  for (size_t i = 0; i < t->n; i++)
    if (nclasses == 0 || strcmp(classes[nclasses - 1], classes[i]) != 0)
      classes[nclasses++] = classes[i];
  for (size_t i = 0; i < t->n; i++) {
    char **hit = bsearch(&t->labels[i], classes, nclasses, sizeof *classes, label_cmp);
    y[i] = (int32_t)(hit - classes);
  }
  int rc =
      num_classes > 0 && (int64_t)nclasses > num_classes
          ? too_many_classes(t, classes, nclasses, num_classes, y, err)
          : nnrt_dataset_set_class_names(out, (const char *const *)classes, (int)nclasses, err);
  free(classes);
  return rc;
}

static int all_integers(const train_file *t) {
  for (size_t i = 0; i < t->n; i++)
    if (!is_integer(t->labels[i])) return 0;
  return 1;
}

/* Moves the rows read into `out`: features, labels or targets, names. */
static int make_dataset(train_file *t, int64_t num_classes, nnrt_dataset *out, nnrt_error *err) {
  int floats_out = t->label < 0, nfeat = 0;
  int32_t dtypes[2] = {NNRT_F32, floats_out ? NNRT_F32 : NNRT_I32};
  int64_t sizes[2] = {t->ncols - (floats_out ? t->ntargets : 1), floats_out ? t->ntargets : 1};
  if (nnrt_dataset_alloc(out, (int64_t)t->n, 2, dtypes, sizes, err)) return 1;
  memcpy(out->fields[0].data, t->x.p, t->x.n * sizeof(float));
  if (floats_out)
    memcpy(out->fields[1].data, t->y.p, t->y.n * sizeof(float));
  else if (all_integers(t) ? int_labels(t, num_classes, out->fields[1].data, err)
                           : string_labels(t, num_classes, out->fields[1].data, out, err))
    return 1;
  /* One target column is skipped by name in prediction input, as a label. */
  int named = floats_out ? (t->ntargets == 1 ? t->targets[0] : -1) : t->label;
  if (named >= 0 && !(out->label_name = nnrt__strdup(t->header[named])))
    return nnrt__fail(err, "out of memory");
  for (int c = 0; c < t->ncols; c++) /* the feature columns' names, in order */
    if (!t->skip[c]) t->header[nfeat++] = t->header[c];
  return nnrt_dataset_set_feature_names(out, (const char *const *)t->header, nfeat, err);
}

int nnrt_csv_load_opts(const char *path, const nnrt_csv_options *opt, nnrt_dataset *out,
                       nnrt_error *err) {
  memset(out, 0, sizeof *out);
  nnrt_csv_options none = {0};
  if (!opt) opt = &none;
  train_file t;
  memset(&t, 0, sizeof t);
  if (reader_open(&t.r, path, NULL, err)) return 1;
  int rc = read_header(&t, opt, err) || read_rows(&t, err) ||
           make_dataset(&t, opt->num_classes, out, err);
  if (rc) nnrt_dataset_free(out);
  free(t.x.p);
  free(t.y.p);
  free(t.skip);
  free(t.targets);
  free(t.labels);
  free(t.lines);
  free(t.header);
  reader_close(&t.r);
  return rc;
}

int nnrt_csv_load(const char *path, const char *label_column, nnrt_dataset *out, nnrt_error *err) {
  nnrt_csv_options opt = {0};
  opt.label_column = label_column;
  return nnrt_csv_load_opts(path, &opt, out, err);
}

/* ---- prediction input ------------------------------------------------------- */

static int is_skip_column(const nnrt_csv_input_options *o, const char *s) {
  for (int k = 0; k < o->num_skip; k++)
    if (o->skip_columns[k] && strcmp(o->skip_columns[k], s) == 0) return 1;
  return 0;
}

/* "'t1', 't2'" */
static void quote_columns(char *out, size_t size, const char *const *names, int n) {
  size_t used = 0;
  out[0] = 0;
  for (int i = 0; i < n && used + 1 < size; i++) {
    int w = snprintf(out + used, size - used, "%s'%s'", i ? ", " : "", names[i] ? names[i] : "");
    if (w < 0) break;
    used += (size_t)w;
  }
}

static const char *skip_kind(const nnrt_csv_input_options *o) {
  return o->num_skip == 1 ? "label column" : "target columns";
}

/* A first line with a field that is not a number is a header, unless it is
 * a row of the training file with its label: all numbers but one, and one
 * column more than the model's features. That row is reported, since as a
 * header it would leave "no data rows" and hide the cause. */
static int first_line_is_header(const csv_reader *r, const nnrt_csv_input_options *o,
                                int *is_header, nnrt_error *err) {
  int text = 0, last = -1;
  for (int c = 0; c < r->nfields; c++)
    if (!looks_numeric(r->fields[c])) text++, last = c;
  *is_header = text > 0;
  if (text == 1 && o->num_features > 0 && r->nfields == o->num_features + 1 &&
      !is_skip_column(o, r->fields[last]))
    return nnrt__fail(
        err,
        "%s:%d: the row has %d columns, one more than the model's %lld features: it may include "
        "its label ('%s' in column %d); expected the features only",
        r->name, r->line, r->nfields, (long long)o->num_features, r->fields[last], last + 1);
  return 0;
}

/* Rows without a header are features only: which of their columns would be
 * the targets cannot be told without names. */
static int targets_without_header(const csv_reader *r, const nnrt_csv_input_options *o, int ncols,
                                  nnrt_error *err) {
  char names[300] = "";
  quote_columns(names, sizeof names, o->skip_columns, o->num_skip);
  long long extra = (long long)(ncols - o->num_features);
  if (extra == 1)
    return nnrt__fail(
        err,
        "%s:%d: the rows have %d columns, one more than the model's %lld features: they may "
        "include the label; expected the features only%s%s%s%s",
        r->name, r->line, ncols, (long long)o->num_features,
        o->num_skip ? ", or a header that names the " : "", o->num_skip ? skip_kind(o) : "",
        o->num_skip ? " " : "", names);
  return nnrt__fail(
      err,
      "%s:%d: the rows have %d columns, %lld more than the model's %lld features: they may "
      "include the %lld targets; expected the features only, or a header that names the %s %s",
      r->name, r->line, ncols, extra, (long long)o->num_features, extra, skip_kind(o), names);
}

/* "; expected the model's 3 features (a, b, c), ..." for a header or rows of
 * another width. */
static int wrong_width(const csv_reader *r, int line, char **header, const unsigned char *skip,
                       int ncols, int skipped, const nnrt_csv_input_options *o, nnrt_error *err) {
  char want[400] = "", names[300] = "", also[400] = "";
  if (o->feature_names && o->num_feature_names == o->num_features) {
    char list[390];
    list_columns(list, sizeof list, (char **)o->feature_names, o->num_feature_names);
    snprintf(want, sizeof want, " (%s)", list);
  }
  if (o->num_skip) quote_columns(names, sizeof names, o->skip_columns, o->num_skip);
  if (!header) {
    if (o->num_skip)
      snprintf(also, sizeof also, ", or a header that names them and the %s %s", skip_kind(o),
               names);
    return nnrt__fail(err,
                      "%s:%d: the rows have %d columns; expected the model's %lld features%s%s",
                      r->name, line, ncols, (long long)o->num_features, want, also);
  }
  char **feat = malloc((size_t)ncols * sizeof *feat);
  if (!feat) return nnrt__fail(err, "out of memory");
  int n = 0;
  for (int c = 0; c < ncols; c++)
    if (!skip[c]) feat[n++] = header[c];
  char got[400];
  list_columns(got, sizeof got, feat, n);
  free(feat);
  if (skipped)
    return nnrt__fail(
        err,
        "%s:%d: the header has %d feature column%s (%s) besides the %s %s; expected the model's "
        "%lld features%s",
        r->name, line, n, n == 1 ? "" : "s", got, skip_kind(o), names, (long long)o->num_features,
        want);
  if (o->num_skip)
    snprintf(also, sizeof also, ", with or without the %s %s (skipped)", skip_kind(o), names);
  return nnrt__fail(
      err, "%s:%d: the header has %d column%s (%s); expected the model's %lld features%s%s",
      r->name, line, n, n == 1 ? "" : "s", got, (long long)o->num_features, want, also);
}

/* The skip columns a header names: all of them, or none. */
static int find_skipped(const csv_reader *r, char **header, int ncols,
                        const nnrt_csv_input_options *o, unsigned char *skip, int *skipped,
                        nnrt_error *err) {
  int found = -1, missing = -1;
  *skipped = 0;
  for (int k = 0; k < o->num_skip; k++) {
    int at = -1;
    for (int c = 0; o->skip_columns[k] && c < ncols; c++)
      if (strcmp(header[c], o->skip_columns[k]) == 0) at = c;
    if (at < 0) {
      missing = k;
      continue;
    }
    found = k;
    if (!skip[at]) skip[at] = 1, ++*skipped;
  }
  if (found < 0 || missing < 0) return 0;
  char names[300];
  quote_columns(names, sizeof names, o->skip_columns, o->num_skip);
  return nnrt__fail(
      err,
      "%s:%d: the header has the target column '%s' but not '%s'; expected all of the target "
      "columns %s (they are skipped) or none of them",
      r->name, r->line, o->skip_columns[found], o->skip_columns[missing], names);
}

int nnrt_csv_load_inputs_opts(const char *path, FILE *f, const nnrt_csv_input_options *opt,
                              nnrt_dataset *out, nnrt_error *err) {
  memset(out, 0, sizeof *out);
  nnrt_csv_input_options none = {0};
  const nnrt_csv_input_options *o = opt ? opt : &none;
  csv_reader r;
  if (reader_open(&r, path, f, err)) return 1;
  floats x = {0};
  char **header = NULL;
  unsigned char *skip = NULL;
  int rc = 1, ncols, skipped = 0, has_header = 0, header_line = 0;
  int64_t rows = 0;

  int got = next_line(&r, err);
  if (got < 0) goto done;
  if (got == 0) {
    nnrt__fail(err, "%s: no rows", r.name);
    goto done;
  }
  ncols = r.nfields;
  if (first_line_is_header(&r, o, &has_header, err)) goto done;
  skip = calloc(ncols > 0 ? (size_t)ncols : 1, 1);
  if (!skip) {
    nnrt__fail(err, "out of memory");
    goto done;
  }
  if (has_header) {
    header = malloc((size_t)ncols * sizeof *header);
    if (!header) {
      nnrt__fail(err, "out of memory");
      goto done;
    }
    memcpy(header, r.fields, (size_t)ncols * sizeof *header);
    header_line = r.line;
    if (find_skipped(&r, header, ncols, o, skip, &skipped, err)) goto done;
    got = next_line(&r, err);
  }
  int nfeat = ncols - skipped;
  if (nfeat < 1) {
    nnrt__fail(err, "%s:%d: no feature columns", r.name, r.line);
    goto done;
  }
  if (got > 0 && o->num_features > 0 && nfeat != o->num_features) {
    if (!has_header && o->num_skip <= 1 && nfeat == o->num_features + 1)
      targets_without_header(&r, o, ncols, err);
    else if (!has_header && o->num_skip > 1 && nfeat == o->num_features + o->num_skip)
      targets_without_header(&r, o, ncols, err);
    else
      wrong_width(&r, has_header ? header_line : r.line, header, skip, ncols, skipped, o, err);
    goto done;
  }
  for (; got > 0; got = next_line(&r, err)) {
    if (r.nfields != ncols) {
      nnrt__fail(err, "%s:%d: expected %d columns, found %d", r.name, r.line, ncols, r.nfields);
      goto done;
    }
    if (push_features(&r, &x, skip, header, err)) goto done;
    rows++;
  }
  if (got < 0) goto done;
  if (rows == 0) {
    nnrt__fail(err, "%s: no data rows", r.name);
    goto done;
  }
  int32_t dtype = NNRT_F32;
  int64_t size = nfeat;
  if (nnrt_dataset_alloc(out, rows, 1, &dtype, &size, err)) goto done;
  memcpy(out->fields[0].data, x.p, x.n * sizeof(float));
  if (header) {
    int k = 0;
    for (int c = 0; c < ncols; c++)
      if (!skip[c]) header[k++] = header[c];
    if (nnrt_dataset_set_feature_names(out, (const char *const *)header, nfeat, err)) {
      nnrt_dataset_free(out);
      goto done;
    }
  }
  rc = 0;
done:
  free(x.p);
  free(header);
  free(skip);
  reader_close(&r);
  return rc;
}

int nnrt_csv_load_inputs(const char *path, FILE *f, const char *ignore_column, int64_t num_features,
                         nnrt_dataset *out, nnrt_error *err) {
  nnrt_csv_input_options o = {0};
  o.skip_columns = &ignore_column;
  o.num_skip = ignore_column ? 1 : 0;
  o.num_features = num_features;
  return nnrt_csv_load_inputs_opts(path, f, &o, out, err);
}

int nnrt_csv_load_features(const char *path, FILE *f, const char *ignore_column, nnrt_dataset *out,
                           nnrt_error *err) {
  return nnrt_csv_load_inputs(path, f, ignore_column, 0, out, err);
}
