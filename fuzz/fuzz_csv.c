/* fuzz_csv: CSV files as nnc train and predict read them
 * (nnrt_csv_load_opts with the label, class-count and regression options,
 * nnrt_csv_load_inputs and nnrt_csv_load_inputs_opts (several target
 * columns) for prediction rows from a file and from a stream),
 * then what training does with a loaded dataset: split, min-max scaling. */
#include "fuzz_util.h"

#include "nnrt/nnrt.h"

#include <math.h>

static void use_dataset(nnrt_dataset *ds) {
  nnrt_error e;
  FUZZ_CHECK(ds->n > 0 && ds->num_fields >= 1);
  nnrt_scaler sc = {0};
  if (ds->fields[0].dtype == NNRT_F32 && !nnrt_scaler_fit(&sc, ds, 0, &e)) {
    nnrt_scaler_apply(&sc, ds, 0, &e);
    const float *x = (const float *)ds->fields[0].data;
    for (int64_t i = 0; i < ds->n * ds->fields[0].size; i++)
      FUZZ_CHECK(isfinite(x[i]));
  }
  nnrt_scaler_free(&sc);
  nnrt_dataset train = {0}, test = {0};
  if (!nnrt_split(ds, 0.25, 42, &train, &test, &e))
    FUZZ_CHECK(train.n + test.n == ds->n);
  nnrt_dataset_free(&train);
  nnrt_dataset_free(&test);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(0, data, size);
  static const char *const targets[] = {"t1", "t2"};
  /* the label columns and targets of the files under tests/ and examples/ */
  const nnrt_csv_options opts[] = {
      {NULL, 0, NULL, 0, 0},    {"label", 2, NULL, 0, 0}, {"species", 3, NULL, 0, 0},
      {"label", 0, NULL, 0, 0}, {"t", 0, NULL, 0, 1},     {NULL, 0, targets, 2, 0},
  };
  for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
    nnrt_dataset ds = {0};
    nnrt_error e;
    if (!nnrt_csv_load_opts(path, &opts[k], &ds, &e)) {
      if (opts[k].num_classes > 0 && ds.num_fields > 1) {
        const int32_t *y = (const int32_t *)ds.fields[1].data;
        for (int64_t i = 0; i < ds.n; i++)
          FUZZ_CHECK(y[i] >= 0 && y[i] < opts[k].num_classes);
      }
      use_dataset(&ds);
    } else {
      FUZZ_CHECK(e.msg[0] != 0);
    }
    nnrt_dataset_free(&ds);
  }
  for (int64_t features = 0; features <= 4; features += 2) {
    nnrt_dataset ds = {0};
    nnrt_error e;
    if (!nnrt_csv_load_inputs(path, NULL, "label", features, &ds, &e)) {
      FUZZ_CHECK(features == 0 || ds.fields[0].size == features);
      use_dataset(&ds);
    }
    nnrt_dataset_free(&ds);
  }
  /* a model of several targets: they are skipped by name, and rows that
   * load are exactly the model's width */
  for (int64_t features = 0; features <= 3; features += 3) {
    nnrt_csv_input_options in = {targets, 2, features, NULL, 0};
    nnrt_dataset ds = {0};
    nnrt_error e;
    if (!nnrt_csv_load_inputs_opts(path, NULL, &in, &ds, &e)) {
      FUZZ_CHECK(features == 0 || ds.fields[0].size == features);
      use_dataset(&ds);
    } else {
      FUZZ_CHECK(e.msg[0] != 0);
    }
    nnrt_dataset_free(&ds);
  }
  /* predict reads rows from stdin: the stream path */
  FILE *f = fmemopen((void *)(size ? data : (const uint8_t *)""), size ? size : 1, "rb");
  if (f) {
    if (!size)
      fgetc(f);
    nnrt_dataset ds = {0};
    nnrt_error e;
    if (!nnrt_csv_load_features("<stdin>", f, "species", &ds, &e))
      use_dataset(&ds);
    nnrt_dataset_free(&ds);
    fclose(f);
  }
  return 0;
}
