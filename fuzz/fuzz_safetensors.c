/* fuzz_safetensors: checkpoints as nnc predict, train --resume and
 * train --init read them: nnrt_checkpoint_load and
 * nnrt_checkpoint_load_matching (the 8-byte length, the JSON header, its
 * __metadata__, the tensors' dtypes, shapes and offsets, the data and its
 * finiteness), then the metadata values the commands decode: class names,
 * scaler lists, the vocabulary. The model is tests/lit/CLI/Inputs/tiny.nn
 * (two features, two classes) with an optimizer state, so that checkpoints
 * nnc writes for it load whole. */
#include "fuzz_util.h"

#include "nnrt/nnrt.h"

#include <math.h>

static const nnrt_tensor_info kTensors[] = {
    {"logits.W", NNRT_PARAM, NNRT_F32, 2, 0, {2, 2}, 0, 4},
    {"logits.b", NNRT_PARAM, NNRT_F32, 1, 0, {2}, 4, 2},
    {"x", NNRT_INPUT, NNRT_F32, 1, 0, {2}, 0, 2},
    {"y", NNRT_TARGET, NNRT_I32, 0, 0, {0}, 0, 1},
    {"probs", NNRT_OUTPUT, NNRT_F32, 1, 0, {2}, 0, 2},
};

static nnrt_model tiny_model(void) {
  nnrt_model m;
  memset(&m, 0, sizeof m);
  m.abi_version = NNRT_ABI_VERSION;
  m.optimizer = NNRT_OPT_ADAM;
  m.loss = NNRT_LOSS_CROSS_ENTROPY;
  m.num_tensors = (int32_t)(sizeof kTensors / sizeof kTensors[0]);
  m.name = "Tiny";
  m.batch = 4;
  m.num_params = 6;
  m.opt_state_size = 12;
  m.tensors = kTensors;
  return m;
}

static void use_metadata(const nnrt_metadata *md) {
  nnrt_error e;
  for (int i = 0; i < md->count; i++) {
    FUZZ_CHECK(md->keys[i] && md->values[i]);
    float *v = NULL;
    int64_t n = 0;
    if (!nnrt_json_decode_floats(md->values[i], &v, &n, &e)) {
      for (int64_t k = 0; k < n; k++)
        FUZZ_CHECK(isfinite(v[k]));
      nnrt_scaler s = {0};
      if (!nnrt_scaler_set(&s, v, v, n, &e))
        nnrt_scaler_free(&s);
    }
    free(v);
    char **names = NULL;
    int count = 0;
    if (!nnrt_json_decode_strings(md->values[i], &names, &count, &e)) {
      FUZZ_CHECK(count >= 0);
      for (int k = 0; k < count; k++)
        FUZZ_CHECK(names[k] != NULL);
    }
    nnrt_free_strings(names, count);
  }
  nnrt_vocab v = {0};
  if (!nnrt_vocab_from_metadata(&v, md, &e))
    FUZZ_CHECK(v.size > 0);
  nnrt_vocab_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(0, data, size);
  nnrt_model m = tiny_model();
  float params[6] = {1, 2, 3, 4, 5, 6}, opt[12] = {0};
  nnrt_metadata md = {0};
  nnrt_error e;
  int restored = -1;
  if (!nnrt_checkpoint_load(path, &m, params, opt, &restored, &md, &e)) {
    FUZZ_CHECK(restored == 0 || restored == 1);
    for (int i = 0; i < 6; i++)
      FUZZ_CHECK(isfinite(params[i]));
    use_metadata(&md);
  } else {
    FUZZ_CHECK(e.msg[0] != 0);
    /* nothing is written unless everything checks out */
    for (int i = 0; i < 6; i++)
      FUZZ_CHECK(params[i] == (float)(i + 1));
  }
  nnrt_metadata_free(&md);
  int loaded[5] = {0}, unused = 0;
  if (!nnrt_checkpoint_load_matching(path, &m, params, loaded, &unused, &md, &e))
    use_metadata(&md);
  nnrt_metadata_free(&md);
  return 0;
}
