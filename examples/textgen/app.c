/* textgen-app: writes text with the word LSTM of moby_small.nn, compiled
 * into this program at build time, through nnrt's generation API: the
 * same text `nnc generate` writes for the same checkpoint, prompt and
 * sampling.
 *
 *   textgen-app CKPT PROMPT [TOKENS [TEMPERATURE [SEED]]]
 *
 * CKPT: nnc train examples/textgen/moby_small.nn --save CKPT. TOKENS
 * defaults to 50; without TEMPERATURE the most probable word is taken each
 * step (greedy). The vocabulary comes from the checkpoint's metadata.
 * Exit status 1 on any error. */
#include "mobysmall.h" /* generated: mobysmall_model */
#include "nnrt/nnrt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *msg) {
  fprintf(stderr, "textgen-app: error: %s\n", msg);
  return 1;
}

/* A number of the whole argument, or -1 (all arguments here are >= 0). */
static double number(const char *s) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  return *s && !*end && !errno && v >= 0 ? v : -1;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 6)
    return fail("usage: textgen-app CKPT PROMPT [TOKENS [TEMPERATURE [SEED]]]");
  double tokens = argc > 3 ? number(argv[3]) : 50;
  nnrt_sampling sampling = {0};
  sampling.temperature = argc > 4 ? (float)number(argv[4]) : 0.0f;
  double seed = argc > 5 ? number(argv[5]) : 0;
  if (tokens < 0 || tokens != (long long)tokens || sampling.temperature < 0 || seed < 0)
    return fail("TOKENS and SEED must be non-negative integers, TEMPERATURE a number >= 0");

  const nnrt_model *m = &mobysmall_model;
  nnrt_error err = {0};
  float *params = nnrt_alloc_floats(m->num_params);
  nnrt_metadata md = {0};
  nnrt_vocab vocab = {0};
  int rc = !params;
  if (rc)
    snprintf(err.msg, sizeof err.msg, "out of memory");
  rc = rc || nnrt_checkpoint_load(argv[1], m, params, NULL, NULL, &md, &err) ||
       nnrt_vocab_from_metadata(&vocab, &md, &err) ||
       nnrt_generate(m, params, &vocab, argv[2], (int64_t)tokens, &sampling, (uint64_t)seed, stdout,
                     NULL, &err);
  if (!rc)
    printf("\n");
  nnrt_vocab_free(&vocab);
  nnrt_metadata_free(&md);
  nnrt_free_floats(params);
  return rc ? fail(err.msg) : 0;
}
