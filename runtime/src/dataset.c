/* dataset.c: in-memory datasets, splitting and min-max scaling. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *dtype_name(int dtype) { return dtype == NNRT_I32 ? "int32" : "float32"; }

int nnrt_dataset_alloc(nnrt_dataset *ds, int64_t n, int num_fields, const int32_t *dtypes,
                       const int64_t *sizes, nnrt_error *err) {
  memset(ds, 0, sizeof *ds);
  if (n < 0) return nnrt__fail(err, "negative number of examples");
  if (num_fields < 0 || num_fields > NNRT_MAX_FIELDS)
    return nnrt__fail(err, "a dataset has at most %d fields, not %d", NNRT_MAX_FIELDS, num_fields);
  ds->n = n;
  ds->num_fields = num_fields;
  for (int i = 0; i < num_fields; i++) {
    if (dtypes[i] != NNRT_F32 && dtypes[i] != NNRT_I32) {
      nnrt_dataset_free(ds);
      return nnrt__fail(err, "field %d: unknown dtype %d", i, dtypes[i]);
    }
    if (sizes[i] < 0) {
      nnrt_dataset_free(ds);
      return nnrt__fail(err, "field %d: negative size", i);
    }
    ds->fields[i].dtype = dtypes[i];
    ds->fields[i].size = sizes[i];
    /* calloc checks the multiplication; +1 so empty fields still get a pointer. */
    ds->fields[i].data = calloc((size_t)(n * sizes[i]) + 1, 4);
    if (!ds->fields[i].data) {
      nnrt_dataset_free(ds);
      return nnrt__fail(err, "out of memory for %lld examples", (long long)n);
    }
  }
  return 0;
}

int nnrt_dataset_alloc_for_model(nnrt_dataset *ds, const nnrt_model *m, int64_t n, int with_targets,
                                 nnrt_error *err) {
  memset(ds, 0, sizeof *ds);
  if (nnrt_model_check(m, err)) return 1;
  int32_t dtypes[NNRT_MAX_FIELDS];
  int64_t sizes[NNRT_MAX_FIELDS];
  int k = 0;
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role != NNRT_INPUT && !(with_targets && t->role == NNRT_TARGET)) continue;
    if (k == NNRT_MAX_FIELDS)
      return nnrt__fail(err, "model '%s' has too many inputs and targets", m->name);
    dtypes[k] = t->dtype;
    sizes[k] = t->size;
    k++;
  }
  return nnrt_dataset_alloc(ds, n, k, dtypes, sizes, err);
}

void nnrt_dataset_free(nnrt_dataset *ds) {
  if (!ds) return;
  for (int i = 0; i < ds->num_fields && i < NNRT_MAX_FIELDS; i++) free(ds->fields[i].data);
  nnrt_free_strings(ds->class_names, ds->num_classes);
  nnrt_free_strings(ds->feature_names, ds->num_features);
  free(ds->label_name);
  memset(ds, 0, sizeof *ds);
}

static int copy_names(char ***dst, int *dst_n, const char *const *names, int count,
                      nnrt_error *err) {
  nnrt_free_strings(*dst, *dst_n);
  *dst = NULL;
  *dst_n = 0;
  if (!names || count <= 0) return 0;
  char **v = calloc((size_t)count, sizeof *v);
  if (!v) return nnrt__fail(err, "out of memory");
  for (int i = 0; i < count; i++) {
    v[i] = nnrt__strdup(names[i] ? names[i] : "");
    if (!v[i]) {
      nnrt_free_strings(v, i);
      return nnrt__fail(err, "out of memory");
    }
  }
  *dst = v;
  *dst_n = count;
  return 0;
}

int nnrt_dataset_set_class_names(nnrt_dataset *ds, const char *const *names, int count,
                                 nnrt_error *err) {
  return copy_names(&ds->class_names, &ds->num_classes, names, count, err);
}

int nnrt_dataset_set_feature_names(nnrt_dataset *ds, const char *const *names, int count,
                                   nnrt_error *err) {
  return copy_names(&ds->feature_names, &ds->num_features, names, count, err);
}

int nnrt_dataset_subset(const nnrt_dataset *ds, const int64_t *rows, int64_t count,
                        nnrt_dataset *out, nnrt_error *err) {
  int32_t dtypes[NNRT_MAX_FIELDS];
  int64_t sizes[NNRT_MAX_FIELDS];
  for (int f = 0; f < ds->num_fields; f++) {
    dtypes[f] = ds->fields[f].dtype;
    sizes[f] = ds->fields[f].size;
  }
  if (nnrt_dataset_alloc(out, count, ds->num_fields, dtypes, sizes, err)) return 1;
  for (int64_t r = 0; r < count; r++) {
    if (rows[r] < 0 || rows[r] >= ds->n) {
      nnrt_dataset_free(out);
      return nnrt__fail(err, "row %lld is out of range (dataset has %lld)", (long long)rows[r],
                        (long long)ds->n);
    }
  }
  for (int f = 0; f < ds->num_fields; f++) {
    size_t row_bytes = (size_t)ds->fields[f].size * 4;
    const char *src = ds->fields[f].data;
    char *dst = out->fields[f].data;
    for (int64_t r = 0; r < count; r++)
      memcpy(dst + (size_t)r * row_bytes, src + (size_t)rows[r] * row_bytes, row_bytes);
  }
  if (copy_names(&out->class_names, &out->num_classes, (const char *const *)ds->class_names,
                 ds->num_classes, err) ||
      copy_names(&out->feature_names, &out->num_features, (const char *const *)ds->feature_names,
                 ds->num_features, err)) {
    nnrt_dataset_free(out);
    return 1;
  }
  if (ds->label_name && !(out->label_name = nnrt__strdup(ds->label_name))) {
    nnrt_dataset_free(out);
    return nnrt__fail(err, "out of memory");
  }
  return 0;
}

int nnrt_dataset_check(const nnrt_dataset *ds, const nnrt_model *m, int with_targets,
                       const char *what, nnrt_error *err) {
  if (!what) what = "dataset";
  int k = 0;
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role != NNRT_INPUT && !(with_targets && t->role == NNRT_TARGET)) continue;
    const char *kind = t->role == NNRT_INPUT ? "input" : "target";
    if (k >= ds->num_fields)
      return nnrt__fail(err, "%s has %d fields, model '%s' needs one for its %s '%s'", what,
                        ds->num_fields, m->name, kind, t->name);
    const nnrt_field *f = &ds->fields[k];
    if (f->dtype != t->dtype || f->size != t->size)
      return nnrt__fail(
          err, "%s field %d is %lld x %s per example, model '%s' expects %lld x %s for %s '%s'",
          what, k, (long long)f->size, dtype_name(f->dtype), m->name, (long long)t->size,
          dtype_name(t->dtype), kind, t->name);
    if (!f->data) return nnrt__fail(err, "%s field %d has no data", what, k);
    k++;
  }
  return 0;
}

/* nnrt_split (shuffle: test_fraction of the rows drawn with seed) and
 * nnrt_split_last (the last test_fraction of the rows, in order) share all
 * but the choice of the test rows. */
static int split_rows(const nnrt_dataset *ds, double test_fraction, int shuffle, uint64_t seed,
                      nnrt_dataset *train, nnrt_dataset *test, nnrt_error *err) {
  memset(train, 0, sizeof *train);
  memset(test, 0, sizeof *test);
  if (!(test_fraction >= 0.0 && test_fraction <= 1.0))
    return nnrt__fail(err, "test fraction %g is not between 0 and 1", test_fraction);
  int64_t n = ds->n;
  int64_t n_test = (int64_t)llround((double)n * test_fraction);
  int64_t *rows = malloc((size_t)(n ? n : 1) * sizeof *rows);
  if (!rows) return nnrt__fail(err, "out of memory");
  for (int64_t i = 0; i < n; i++) rows[i] = i;
  const int64_t *test_rows = rows + (n - n_test), *train_rows = rows;
  if (shuffle) {
    nnrt_rng rng;
    nnrt_rng_seed(&rng, seed);
    nnrt_rng_shuffle(&rng, rows, n);
    test_rows = rows;
    train_rows = rows + n_test;
  }
  int rc = nnrt_dataset_subset(ds, test_rows, n_test, test, err);
  if (!rc) rc = nnrt_dataset_subset(ds, train_rows, n - n_test, train, err);
  if (rc) nnrt_dataset_free(test);
  free(rows);
  return rc;
}

int nnrt_split(const nnrt_dataset *ds, double test_fraction, uint64_t seed, nnrt_dataset *train,
               nnrt_dataset *test, nnrt_error *err) {
  return split_rows(ds, test_fraction, 1, seed, train, test, err);
}

int nnrt_split_last(const nnrt_dataset *ds, double test_fraction, nnrt_dataset *train,
                    nnrt_dataset *test, nnrt_error *err) {
  return split_rows(ds, test_fraction, 0, 0, train, test, err);
}

/* ---- min-max scaler ---- */

void nnrt_scaler_free(nnrt_scaler *s) {
  if (!s) return;
  free(s->min);
  free(s->max);
  memset(s, 0, sizeof *s);
}

static int scaler_alloc(nnrt_scaler *s, int64_t size, nnrt_error *err) {
  nnrt_scaler_free(s);
  s->min = malloc((size_t)(size ? size : 1) * sizeof(float));
  s->max = malloc((size_t)(size ? size : 1) * sizeof(float));
  if (!s->min || !s->max) {
    nnrt_scaler_free(s);
    return nnrt__fail(err, "out of memory");
  }
  s->size = size;
  return 0;
}

int nnrt_scaler_fit(nnrt_scaler *s, const nnrt_dataset *ds, int field, nnrt_error *err) {
  if (field < 0 || field >= ds->num_fields) return nnrt__fail(err, "scaler: no field %d", field);
  const nnrt_field *f = &ds->fields[field];
  if (f->dtype != NNRT_F32) return nnrt__fail(err, "scaler: field %d is not float32", field);
  if (ds->n == 0) return nnrt__fail(err, "scaler: no examples to fit on");
  if (scaler_alloc(s, f->size, err)) return 1;
  const float *x = f->data;
  for (int64_t j = 0; j < f->size; j++) s->min[j] = s->max[j] = x[j];
  for (int64_t r = 1; r < ds->n; r++)
    for (int64_t j = 0; j < f->size; j++) {
      float v = x[r * f->size + j];
      if (v < s->min[j]) s->min[j] = v;
      if (v > s->max[j]) s->max[j] = v;
    }
  return 0;
}

int nnrt_scaler_set(nnrt_scaler *s, const float *min, const float *max, int64_t size,
                    nnrt_error *err) {
  if (scaler_alloc(s, size, err)) return 1;
  for (int64_t j = 0; j < size; j++) {
    if (!isfinite(min[j]) || !isfinite(max[j]) || max[j] < min[j]) {
      nnrt_scaler_free(s);
      return nnrt__fail(err, "scaler: feature %lld has min %g, max %g", (long long)j, min[j],
                        max[j]);
    }
  }
  memcpy(s->min, min, (size_t)size * sizeof(float));
  memcpy(s->max, max, (size_t)size * sizeof(float));
  return 0;
}

int nnrt_scaler_apply(const nnrt_scaler *s, nnrt_dataset *ds, int field, nnrt_error *err) {
  if (field < 0 || field >= ds->num_fields) return nnrt__fail(err, "scaler: no field %d", field);
  nnrt_field *f = &ds->fields[field];
  if (f->dtype != NNRT_F32) return nnrt__fail(err, "scaler: field %d is not float32", field);
  if (f->size != s->size)
    return nnrt__fail(err, "scaler was fitted on %lld features, the data has %lld",
                      (long long)s->size, (long long)f->size);
  float *x = f->data;
  for (int64_t r = 0; r < ds->n; r++)
    for (int64_t j = 0; j < f->size; j++) {
      float range = s->max[j] - s->min[j];
      float *v = &x[r * f->size + j];
      float scaled = range > 0 ? (*v - s->min[j]) / range : *v - s->min[j];
      if (isfinite(range) && isfinite(scaled)) {
        *v = scaled;
        continue;
      }
      /* max - min of finite floats (-3e38 and 3e38) can overflow a float:
       * the scaled values came out NaN. Then in double; a value that still
       * does not fit (far outside the range the scaler was fitted on) is an
       * error, not an inf. */
      double wide = (double)s->max[j] - (double)s->min[j];
      double y = wide > 0 ? ((double)*v - s->min[j]) / wide : (double)*v - s->min[j];
      if (!(fabs(y) <= FLT_MAX))
        return nnrt__fail(
            err,
            "row %lld, feature %lld: %g is too far outside the range the scaler was fitted on "
            "(min %g, max %g) to scale",
            (long long)r + 1, (long long)j + 1, (double)*v, (double)s->min[j], (double)s->max[j]);
      *v = (float)y;
    }
  return 0;
}
