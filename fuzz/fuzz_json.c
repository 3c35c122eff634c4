/* fuzz_json: the JSON nnc reads and writes outside safetensors headers:
 *  - the metadata values of checkpoints (nnrt_json_decode_floats and
 *    _strings: class names, scaler lists, vocabularies), and their round
 *    trip through the encoders that wrote them;
 *  - the metrics file of nnc train --metrics-out (nnrt_write_metrics_json),
 *    with keys and a model name taken from the input, read back by the
 *    runtime's JSON reader: it must be one object with every key; and the
 *    input itself as a metrics file for nnc plot (nnrt_read_metrics_history);
 *  - the reader itself (nnrt__json_parse) on the raw bytes;
 *  - the other text a checkpoint's metadata or a flag hands the runtime:
 *    the training state (nnrt_fit_state_decode, and its round trip) and a
 *    learning-rate schedule spec (nnrt_schedule_parse). */
#include "fuzz_util.h"

#include "../runtime/src/internal.h"

#include <math.h>
#include <sys/stat.h>

static void walk(const nnrt__json *j, int depth) {
  FUZZ_CHECK(depth <= 64);
  if (j->type == NNRT__J_STR)
    FUZZ_CHECK(j->str != NULL);
  if (j->type == NNRT__J_NUM && j->is_int)
    FUZZ_CHECK((double)j->i == j->num);
  if (j->type == NNRT__J_ARR || j->type == NNRT__J_OBJ)
    for (int i = 0; i < j->n; i++) {
      if (j->type == NNRT__J_OBJ)
        FUZZ_CHECK(j->keys[i] != NULL);
      walk(&j->kids[i], depth + 1);
    }
}

/* 0 when s is UTF-8 */
static int utf8(const char *s) { return nnrt_utf8_check(NULL, s, strlen(s), NULL); }

static void metadata_values(const char *s) {
  nnrt_error e;
  float *v = NULL;
  int64_t n = 0;
  if (!nnrt_json_decode_floats(s, &v, &n, &e)) {
    char *again = nnrt_json_encode_floats(v, n);
    FUZZ_CHECK(again);
    float *w = NULL;
    int64_t m = 0;
    FUZZ_CHECK(!nnrt_json_decode_floats(again, &w, &m, &e));
    FUZZ_CHECK(m == n);
    for (int64_t i = 0; i < n; i++)
      FUZZ_CHECK(memcmp(&v[i], &w[i], sizeof(float)) == 0);
    free(w);
    free(again);
  }
  free(v);
  char **names = NULL;
  int count = 0;
  if (!nnrt_json_decode_strings(s, &names, &count, &e)) {
    char *again = nnrt_json_encode_strings((const char *const *)names, count);
    FUZZ_CHECK(again);
    char **back = NULL;
    int m = 0;
    FUZZ_CHECK(!nnrt_json_decode_strings(again, &back, &m, &e));
    FUZZ_CHECK(m == count);
    /* names come back as they were, but for bytes that are not UTF-8
     * (written as U+FFFD to keep the JSON valid) */
    for (int i = 0; i < count; i++) {
      if (!utf8(names[i]))
        FUZZ_CHECK(strcmp(names[i], back[i]) == 0);
      FUZZ_CHECK(!utf8(back[i]));
    }
    nnrt_free_strings(back, m);
    free(again);
  }
  nnrt_free_strings(names, count);
}

static void fit_state_and_schedule(const char *s) {
  nnrt_error e;
  nnrt_fit_state st;
  if (!nnrt_fit_state_decode(s, &st, &e)) {
    char *again = nnrt_fit_state_encode(&st);
    FUZZ_CHECK(again);
    nnrt_fit_state back;
    FUZZ_CHECK(!nnrt_fit_state_decode(again, &back, &e));
    FUZZ_CHECK(back.started == st.started && back.bad_epochs == st.bad_epochs &&
               back.best_epoch == st.best_epoch && back.wait == st.wait &&
               back.cooldown_left == st.cooldown_left);
    FUZZ_CHECK(memcmp(&back.lr, &st.lr, sizeof st.lr) == 0);
    free(again);
  }
  nnrt_schedule sch;
  if (!nnrt_schedule_parse(&sch, s, &e)) {
    FUZZ_CHECK(sch.kind >= 0 && sch.kind < NNRT_SCHEDULE_COUNT);
    nnrt_fit_state fresh = {0};
    nnrt_fit_state_start(&fresh, 0.01, NNRT_MONITOR_LOSS);
    double lr = nnrt_schedule_lr(&sch, &fresh, 0.01, 3, 17, 40);
    FUZZ_CHECK(lr >= 0 && !isnan(lr));
  }
}

/* The metrics file is written atomically (temp file, fsync, rename): in a
 * directory of its own on tmpfs where there is one, made and removed by
 * each run (nothing is left behind when libFuzzer stops the process). */
static const char *base_dir(void) {
  if (access("/dev/shm", W_OK) == 0)
    return "/dev/shm";
  return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
}

static void metrics(const uint8_t *data, size_t size) {
  char dir[400], path[450];
  snprintf(dir, sizeof dir, "%s/nnc-fuzz-json-XXXXXX", base_dir());
  if (!mkdtemp(dir))
    abort();
  snprintf(path, sizeof path, "%s/metrics.json", dir);
  /* lines of the input: the model name, then up to 8 keys */
  char *text = fuzz_cstr(data, size);
  const char *keys[8];
  int n = 0;
  char *model = text, *p = strchr(text, '\n');
  while (p && n < 8) {
    *p = 0;
    keys[n++] = p + 1;
    p = strchr(p + 1, '\n');
  }
  if (p)
    *p = 0;
  static const double values[8] = {150,    0.0523, NAN,  INFINITY,
                                   -1e300, 1e-310, -0.0, 9007199254740993.0};
  nnrt_error e;
  if (!nnrt_write_metrics_json(path, model, n, keys, values, &e)) {
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f);
    char buf[1 << 17];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    nnrt__json j;
    if (nnrt__json_parse(buf, len, &j, &e)) {
      fprintf(stderr, "metrics file does not parse: %s\n%.*s\n", e.msg, (int)len, buf);
      abort();
    }
    FUZZ_CHECK(j.type == NNRT__J_OBJ && j.n == n + 1);
    const nnrt__json *mv = nnrt__json_get(&j, "model");
    FUZZ_CHECK(mv && mv->type == NNRT__J_STR && !utf8(mv->str));
    if (!utf8(model))
      FUZZ_CHECK(strcmp(mv->str, model) == 0);
    for (int i = 0; i < n; i++) {
      FUZZ_CHECK(!utf8(j.keys[i + 1]));
      if (!utf8(keys[i]))
        FUZZ_CHECK(strcmp(j.keys[i + 1], keys[i]) == 0);
      const nnrt__json *v = &j.kids[i + 1];
      if (isfinite(values[i]) && !(v->type == NNRT__J_NUM && v->num == values[i])) {
        fprintf(stderr, "value %d (%.17g) reads back as %.17g:\n%.*s\n", i, values[i], v->num,
                (int)len, buf);
        abort();
      }
      if (!isfinite(values[i]))
        FUZZ_CHECK(v->type == NNRT__J_NULL);
    }
    nnrt__json_free(&j);
  }
  unlink(path);
  /* The same bytes as a metrics file that nnc plot reads. */
  FILE *raw = fopen(path, "wb");
  FUZZ_CHECK(raw && fwrite(data, 1, size, raw) == size && fclose(raw) == 0);
  nnrt_history h;
  char *name = NULL;
  int64_t first = 0;
  if (!nnrt_read_metrics_history(path, &name, &h, &first, &e)) {
    FUZZ_CHECK(name && h.count > 0 && h.loss && h.val_accuracy);
    free(name);
    nnrt_history_free(&h);
  }
  unlink(path);
  FUZZ_CHECK(rmdir(dir) == 0); /* and no temp file left in it */
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nnrt__json j;
  nnrt_error e;
  if (!nnrt__json_parse((const char *)data, size, &j, &e)) {
    walk(&j, 0);
    nnrt__json_free(&j);
  } else {
    FUZZ_CHECK(strstr(e.msg, "at byte") || strstr(e.msg, "memory"));
  }
  char *s = fuzz_cstr(data, size);
  metadata_values(s);
  fit_state_and_schedule(s);
  free(s);
  if (size < (1 << 16))
    metrics(data, size);
  return 0;
}
