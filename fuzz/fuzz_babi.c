/* fuzz_babi / fuzz_jsonl: question-answering files as nnc train and chat
 * read them for data babi(...): nnrt_babi_load over one file, and over the
 * file twice (train and test share one vocabulary), then the padded and
 * masked-token datasets built from the sets. fuzz_jsonl is the same target
 * held to the JSON-lines format (inputs whose first non-blank byte is '{'),
 * fuzz_babi gets both. */
#include "fuzz_util.h"

#include "nnrt/nnrt.h"

/* Datasets are n x (story + question) ids: a valid file of 64 KiB can ask
 * for gigabytes (thousands of questions after one long story), as nnc
 * would. Those are left out, not bugs. */
#define MAX_CELLS (int64_t)(1 << 22)

static void use_set(const nnrt_babi_set *s, nnrt_vocab *v, int64_t sl, int64_t ql) {
  nnrt_error e;
  FUZZ_CHECK(s->n > 0 && s->max_story <= sl && s->max_question <= ql);
  for (int64_t i = 0; i < s->n; i++)
    FUZZ_CHECK(s->answer[i] > 0 && s->answer[i] < v->size);
  /* a file may ask questions before any story: the model's lengths are
   * then what counts, and are at least 1 */
  if (sl < 1)
    sl = 1;
  if (ql < 1)
    ql = 1;
  if (s->n * (sl + ql + 1) > MAX_CELLS)
    return;
  nnrt_dataset d = {0};
  FUZZ_CHECK(!nnrt_babi_dataset(s, sl, ql, &d, &e));
  FUZZ_CHECK(d.n == s->n && d.num_fields == 3);
  nnrt_dataset_free(&d);
  /* lengths shorter than the longest story: an error naming file:line */
  if (sl > 1 && nnrt_babi_dataset(s, sl - 1, ql, &d, &e) == 0)
    FUZZ_CHECK(s->max_story < sl);
  nnrt_dataset_free(&d);
  if (!nnrt_babi_masked_dataset(s, sl, ql, &d, &e)) {
    int32_t mask = 0;
    if (!nnrt_vocab_append(v, "[mask]", &mask, &e))
      nnrt_babi_mask(&d, mask, 0.15, 1, &e);
  }
  nnrt_dataset_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef FUZZ_JSONL
  size_t i = 0;
  while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
    i++;
  if (i == size || data[i] != '{')
    return -1; /* not JSON lines: not kept */
#endif
  const char *path = fuzz_file(0, data, size);
  nnrt_error e;
  for (int files = 1; files <= 2; files++) {
    const char *paths[2] = {path, path};
    nnrt_babi_set sets[2];
    nnrt_vocab v = {0};
    int64_t sl = 0, ql = 0;
    if (!nnrt_babi_load(paths, files, sets, &v, &sl, &ql, &e)) {
      FUZZ_CHECK(v.size >= 2);
      use_set(&sets[0], &v, sl, ql);
      for (int f = 0; f < files; f++)
        nnrt_babi_set_free(&sets[f]);
    } else {
      FUZZ_CHECK(e.msg[0] != 0);
      if (files == 1) {
        nnrt_vocab_free(&v);
        break;
      }
    }
    nnrt_vocab_free(&v);
  }
  return 0;
}
