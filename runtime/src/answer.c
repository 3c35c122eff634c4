/* nnrt_babi_answer: one question about one story, as nnc chat asks it and
 * as an app (examples/qa/app.c) asks it, so both answer alike. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int encode(const nnrt_vocab *v, const char *text, int32_t **ids, int64_t *n,
                  nnrt_error *err) {
  return nnrt_vocab_encode(v, text, strlen(text), ids, n, err);
}

/* The most probable word of one row of the output; id 0 is padding, never
 * an answer. */
static void best_word(const nnrt_dataset *out, const nnrt_vocab *v, nnrt_answer *a) {
  const float *probs = (const float *)out->fields[0].data;
  int64_t k = out->fields[0].size < v->size ? out->fields[0].size : v->size;
  int64_t best = 1;
  for (int64_t i = 2; i < k; i++)
    if (probs[i] > probs[best]) best = i;
  a->id = (int32_t)best;
  a->prob = probs[best];
  a->word = v->tokens[best];
}

int nnrt_babi_answer(const nnrt_model *m, const float *params, const nnrt_vocab *v,
                     const char *story, const char *question, nnrt_answer *a, nnrt_error *err) {
  memset(a, 0, sizeof *a);
  int64_t story_len, question_len;
  if (nnrt_babi_check_model(m, &story_len, &question_len, err)) return 1;
  int32_t *s = NULL, *q = NULL;
  int64_t ns = 0, nq = 0;
  if (encode(v, story, &s, &ns, err) || encode(v, question, &q, &nq, err)) {
    free(s);
    free(q);
    /* Again, story and question together, so that one message names every
     * unknown word of both. */
    size_t ls = strlen(story), lq = strlen(question);
    char *both = malloc(ls + lq + 2);
    if (!both) return nnrt__fail(err, "out of memory");
    snprintf(both, ls + lq + 2, "%s\n%s", story, question);
    int32_t *ids = NULL;
    int64_t n = 0;
    encode(v, both, &ids, &n, err);
    free(ids);
    free(both);
    return 1;
  }
  a->story_tokens = ns;
  a->question_tokens = nq;
  if (ns > story_len) {
    free(s);
    free(q);
    return nnrt__fail(err, "the story has %lld tokens, the model reads at most %lld", (long long)ns,
                      (long long)story_len);
  }
  /* Keras's pad_sequences truncates at the front: a long question keeps
   * its last words. */
  int64_t q0 = nq > question_len ? nq - question_len : 0;
  a->question_cut = q0 > 0;
  nnrt_dataset x = {0}, out = {0};
  int32_t dtypes[2] = {NNRT_I32, NNRT_I32};
  int64_t sizes[2] = {story_len, question_len};
  int rc = nnrt_dataset_alloc(&x, 1, 2, dtypes, sizes, err);
  if (!rc) {
    nnrt_pad_ids(s, ns, story_len, (int32_t *)x.fields[0].data);
    nnrt_pad_ids(q + q0, nq - q0, question_len, (int32_t *)x.fields[1].data);
    rc = nnrt_predict(m, params, &x, &out, err);
  }
  if (!rc) best_word(&out, v, a);
  nnrt_dataset_free(&x);
  nnrt_dataset_free(&out);
  free(s);
  free(q);
  return rc;
}

size_t nnrt_babi_question_start(const char *line) {
  size_t n = strlen(line);
  for (size_t i = n < 2 ? 0 : n - 1; i-- > 0;)
    if (line[i] == '.' || line[i] == '!' || line[i] == '?') return i + 1;
  return 0;
}
