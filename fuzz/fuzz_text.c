/* fuzz_text: text corpora as nnc train reads them for data text(...):
 * nnrt_text_load (UTF-8 checked), a vocabulary of each kind (characters,
 * Keras words, bAbI tokens), encoding the corpus and a prompt, decoding,
 * the vocabulary's round trip through checkpoint metadata, and the
 * next-token and sequence datasets. */
#include "fuzz_util.h"

#include "nnrt/nnrt.h"

static void use_vocab(const nnrt_vocab *v, const char *text, size_t len) {
  nnrt_error e;
  int32_t *ids = NULL;
  int64_t n = 0;
  if (!nnrt_vocab_encode(v, text, len, &ids, &n, &e)) {
    for (int64_t i = 0; i < n; i++)
      FUZZ_CHECK(ids[i] >= 0 && ids[i] < v->size);
    char *back = NULL;
    if (!nnrt_vocab_decode(v, ids, n, &back, &e)) {
      /* decoding what was encoded gives text that encodes the same */
      int32_t *again = NULL;
      int64_t m = 0;
      FUZZ_CHECK(!nnrt_vocab_encode(v, back, strlen(back), &again, &m, &e));
      FUZZ_CHECK(m == n && (n == 0 || memcmp(again, ids, (size_t)n * sizeof *ids) == 0));
      free(again);
    } else {
      FUZZ_CHECK(!"decoding ids the vocabulary gave failed");
    }
    free(back);
    nnrt_dataset ds = {0};
    if (!nnrt_dataset_windows(&ds, ids, n, 3, &e))
      FUZZ_CHECK(ds.n == n - 3);
    nnrt_dataset_free(&ds);
    if (!nnrt_dataset_sequences(&ds, ids, n, 4, &e))
      FUZZ_CHECK(ds.n == (n - 1) / 4);
    nnrt_dataset_free(&ds);
  } else {
    FUZZ_CHECK(!"the corpus the vocabulary was built from does not encode");
  }
  free(ids);
  /* a prompt with words the corpus may not have */
  static const char prompt[] = "Call me Ishmael, zqxj\xc3\xa9!";
  if (!nnrt_vocab_encode(v, prompt, sizeof prompt - 1, &ids, &n, &e))
    free(ids);
  /* the vocabulary as a checkpoint stores it */
  nnrt_metadata md = {0};
  if (!nnrt_vocab_to_metadata(v, &md, &e)) {
    nnrt_vocab w = {0};
    FUZZ_CHECK(!nnrt_vocab_from_metadata(&w, &md, &e));
    FUZZ_CHECK(w.size == v->size && w.kind == v->kind);
    for (int32_t i = 0; i < v->size; i++)
      FUZZ_CHECK(strcmp(w.tokens[i], v->tokens[i]) == 0);
    nnrt_vocab_free(&w);
  }
  nnrt_metadata_free(&md);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(0, data, size);
  char *text = NULL;
  size_t len = 0;
  nnrt_error e;
  if (nnrt_text_load(path, &text, &len, &e))
    return 0;
  FUZZ_CHECK(len == size && text[len] == 0);
  for (int kind = NNRT_TOKENS_CHARS; kind <= NNRT_TOKENS_BABI; kind++) {
    nnrt_vocab v = {0};
    if (!nnrt_vocab_build(&v, kind, text, len, &e))
      use_vocab(&v, text, len);
    nnrt_vocab_free(&v);
  }
  free(text);
  return 0;
}
