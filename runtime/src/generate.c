/* generate.c: sampling from probability vectors (greedy, temperature,
 * top-k, top-p) and text generation through a model's `step` entry point. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- sampling ---- */

static int sampling_check(const nnrt_sampling *s, nnrt_error *err) {
  if (!(s->temperature >= 0.0f) || isinf(s->temperature))
    return nnrt__fail(err, "sampling temperature %g: use a number >= 0 (0: greedy)",
                      s->temperature);
  if (s->top_k < 0)
    return nnrt__fail(err, "sampling top_k %lld: use 0 (off) or a positive count",
                      (long long)s->top_k);
  if (!(s->top_p >= 0.0f && s->top_p <= 1.0f))
    return nnrt__fail(err, "sampling top_p %g: use a number between 0 and 1 (0 or 1: off)",
                      s->top_p);
  return 0;
}

typedef struct {
  double w;
  int32_t id;
} cand;

static int by_weight(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->w != y->w) return x->w > y->w ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* A usable probability: positive and finite (NaN, infinities, zeros and
 * negative values count as zero). */
static int usable(float p) { return p > 0.0f && p < INFINITY; }

int nnrt_sample(const float *probs, int64_t n, const nnrt_sampling *s, nnrt_rng *rng, int32_t *id,
                nnrt_error *err) {
  static const nnrt_sampling greedy = {0};
  if (!s) s = &greedy;
  if (sampling_check(s, err)) return 1;
  if (n <= 0 || n > INT32_MAX)
    return nnrt__fail(err, "cannot sample from %lld probabilities", (long long)n);
  int64_t best = -1, count = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!usable(probs[i])) continue;
    count++;
    if (best < 0 || probs[i] > probs[best]) best = i;
  }
  if (best < 0)
    return nnrt__fail(
        err, "no probability among the %lld is positive (all zero or NaN: did training diverge?)",
        (long long)n);
  if (s->temperature == 0.0f || count == 1) {
    *id = (int32_t)best;
    return 0;
  }
  cand *c = malloc((size_t)count * sizeof *c);
  if (!c) return nnrt__fail(err, "out of memory");
  /* Temperature on log-probabilities: w = exp((log p - log p_max) / T),
   * so w is p^(1/T) up to a constant and the largest weight is 1. */
  double inv_t = 1.0 / (double)s->temperature, log_max = log((double)probs[best]);
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!usable(probs[i])) continue;
    double w =
        s->temperature == 1.0f ? (double)probs[i] : exp((log((double)probs[i]) - log_max) * inv_t);
    c[k].w = w;
    c[k].id = (int32_t)i;
    k++;
  }
  int do_k = s->top_k > 0 && s->top_k < count;
  int do_p = s->top_p > 0.0f && s->top_p < 1.0f;
  if (do_k || do_p) {
    qsort(c, (size_t)count, sizeof *c, by_weight);
    if (do_k) count = s->top_k;
    if (do_p) {
      double total = 0, cum = 0;
      for (int64_t i = 0; i < count; i++) total += c[i].w;
      /* The fewest ids whose mass reaches top_p, with a little slack for the
       * rounding of float inputs ({0.5, 0.3, ...} with top_p 0.5 is one id). */
      double need = ((double)s->top_p - 1e-6) * total;
      int64_t keep = 0;
      while (keep < count && (keep == 0 || cum < need)) cum += c[keep++].w;
      count = keep;
    }
  }
  /* Weights that underflowed to zero are never drawn; the largest is 1
   * (or p_max) before cutting, and cutting keeps the largest. */
  double total = 0;
  for (int64_t i = 0; i < count; i++) total += c[i].w;
  double u = nnrt_rng_uniform(rng) * total, cum = 0;
  int32_t pick = -1;
  for (int64_t i = 0; i < count; i++) {
    if (c[i].w <= 0) continue;
    pick = c[i].id; /* the last positive one when rounding leaves u past the end */
    cum += c[i].w;
    if (u < cum) break;
  }
  free(c);
  *id = pick >= 0 ? pick : (int32_t)best;
  return 0;
}

/* ---- generation ---- */

static int step_table_check(const nnrt_model *m, const nnrt_vocab *v, int *first_state,
                            int *first_output, nnrt_error *err) {
  const char *name = m->name;
  if (m->step_batch <= 0 || m->num_step_tensors <= 0 || !m->step_tensors)
    return nnrt__fail(err, "model '%s' has a step function but no step tensor table", name);
  int last = 0, inputs = 0, outputs = 0;
  *first_state = *first_output = -1;
  for (int i = 0; i < m->num_step_tensors; i++) {
    const nnrt_tensor_info *t = &m->step_tensors[i];
    const char *tn = t->name ? t->name : "?";
    int role = t->role;
    int rank = role == NNRT_INPUT ? 0 : role == NNRT_STATE ? 1 : role == NNRT_OUTPUT ? 2 : -1;
    if (rank < last)
      return nnrt__fail(
          err, "model '%s': step tensor '%s' is out of order (inputs, states, outputs)", name, tn);
    last = rank;
    if (t->dtype != NNRT_F32 && t->dtype != NNRT_I32)
      return nnrt__fail(err, "model '%s': step tensor '%s' has unknown dtype %d", name, tn,
                        t->dtype);
    if (t->rank < 0 || t->rank > NNRT_MAX_RANK)
      return nnrt__fail(err, "model '%s': step tensor '%s' has rank %d", name, tn, t->rank);
    int64_t size = 1;
    for (int d = 0; d < t->rank; d++) size *= t->shape[d] < 0 ? -1 : t->shape[d];
    if (size != t->size || size < 0)
      return nnrt__fail(err, "model '%s': step tensor '%s' has size %lld, its shape says otherwise",
                        name, tn, (long long)t->size);
    if (role == NNRT_INPUT) inputs++;
    if (role == NNRT_STATE && *first_state < 0) *first_state = i;
    if (role == NNRT_OUTPUT && outputs++ == 0) *first_output = i;
  }
  const nnrt_tensor_info *in = &m->step_tensors[0],
                         *out = &m->step_tensors[*first_output < 0 ? 0 : *first_output];
  if (inputs != 1 || in->dtype != NNRT_I32 || in->size != 1)
    return nnrt__fail(
        err,
        "model '%s': generation feeds one token id per step, the step's inputs are not one int32 "
        "of size 1",
        name);
  if (outputs == 0) return nnrt__fail(err, "model '%s': the step has no output", name);
  /* A model may predict more ids than the corpus has (its vocabulary
   * parameter rounded up); only the corpus's ids are sampled. */
  if (out->dtype != NNRT_F32 || out->size < v->size)
    return nnrt__fail(
        err,
        "model '%s' gives %lld %s per step in '%s', the vocabulary has %d tokens (is the "
        "checkpoint from another corpus?)",
        name, (long long)out->size, out->dtype == NNRT_F32 ? "probabilities" : "int32 values",
        out->name ? out->name : "?", v->size);
  return 0;
}

typedef struct {
  FILE *f;
  nnrt__buf *b;
} sink;

static void emit(sink *s, const char *text) {
  if (s->f) {
    fputs(text, s->f);
    fflush(s->f);
  }
  if (s->b) nnrt__buf_puts(s->b, text);
}

/* Where the next token's probabilities come from: the step function with its
 * states (or KV cache), or predict run again on the window (recompute). */
typedef struct {
  const nnrt_model *m;
  const float *params;
  int recompute;
  void **io; /* step: step tensors; recompute: predict inputs, outputs */
  int nio;
  int first_state, first_output;
  int64_t fed, base; /* step: ids[0..fed) went in; the states hold ids[base..fed) */
  int64_t window;    /* recompute: the input's time length */
  int per_position;  /* recompute: the output has one row per input position */
  int64_t out_width; /* recompute: values per output row */
  void *workspace;   /* the model's, reused by every step */
} engine;

static int engine_init(engine *e, const nnrt_model *m, const float *params, const nnrt_vocab *v,
                       int recompute, nnrt_error *err) {
  memset(e, 0, sizeof *e);
  e->m = m;
  e->params = params;
  e->recompute = recompute;
  e->first_state = e->first_output = -1;
  const char *name = m->name;
  if (!(e->workspace = nnrt_alloc_workspace(m)))
    return nnrt__fail(err, "out of memory for the workspace");
  if (!recompute) {
    if (!m->step)
      return nnrt__fail(
          err, "model '%s' has no step function: it has no recurrent cells or attention cache",
          name);
    if (step_table_check(m, v, &e->first_state, &e->first_output, err)) return 1;
    e->nio = m->num_step_tensors;
    if (!(e->io = calloc((size_t)e->nio, sizeof *e->io))) return nnrt__fail(err, "out of memory");
    for (int i = 0; i < e->nio; i++)
      if (!(e->io[i] = calloc((size_t)(m->step_batch * m->step_tensors[i].size) + 1, 4)))
        return nnrt__fail(err, "out of memory for the step buffers");
    return 0;
  }
  /* predict: one int input [T], the first output [T, V] or [V] */
  int first_in = -1, inputs = 0, outputs = 0;
  const nnrt_tensor_info *out = NULL;
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role == NNRT_INPUT && inputs++ == 0) first_in = i;
    if (t->role == NNRT_OUTPUT && outputs++ == 0) out = t;
  }
  if (inputs != 1 || m->tensors[first_in].dtype != NNRT_I32 || m->tensors[first_in].rank != 1)
    return nnrt__fail(
        err,
        "model '%s': generating by running the model again needs one int input of token ids "
        "[T]",
        name);
  if (!out || out->dtype != NNRT_F32 || out->rank < 1)
    return nnrt__fail(err, "model '%s': generating needs a float output of probabilities", name);
  e->window = m->tensors[first_in].shape[0];
  e->per_position = out->rank == 2 && out->shape[0] == e->window;
  e->out_width = out->shape[out->rank - 1];
  if (e->out_width < v->size)
    return nnrt__fail(
        err,
        "model '%s' gives %lld probabilities per token in '%s', the vocabulary has %d tokens "
        "(is the checkpoint from another corpus?)",
        name, (long long)e->out_width, out->name ? out->name : "?", v->size);
  e->nio = inputs + outputs;
  if (!(e->io = calloc((size_t)e->nio, sizeof *e->io))) return nnrt__fail(err, "out of memory");
  int k = 0;
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role != NNRT_INPUT && t->role != NNRT_OUTPUT) continue;
    if (!(e->io[k++] = calloc((size_t)(m->batch * t->size) + 1, 4)))
      return nnrt__fail(err, "out of memory for the prediction buffers");
  }
  return 0;
}

static void engine_free(engine *e) {
  for (int i = 0; e->io && i < e->nio; i++) free(e->io[i]);
  free(e->io);
  nnrt_free_floats(e->workspace);
}

/* The probabilities of the token after ids[0..len). */
static const float *engine_next(engine *e, const int32_t *ids, int64_t len) {
  const nnrt_model *m = e->m;
  if (e->recompute) {
    int32_t *in = e->io[0];
    int64_t T = e->window, n = len < T ? len : T;
    memset(in, 0, (size_t)T * sizeof *in);
    /* Models that predict every position read the window from its start
     * (causal: what follows cannot matter); window-to-next models are
     * pre-padded, as Keras pads the course's windows. */
    int64_t at = e->per_position ? 0 : T - n;
    memcpy(in + at, ids + len - n, (size_t)n * sizeof *in);
    m->predict(e->params, e->io, e->workspace);
    const float *probs = e->io[1];
    return e->per_position ? probs + (n - 1) * e->out_width : probs;
  }
  int64_t ctx = m->step_context;
  int32_t *tok = e->io[0];
  while (e->fed < len) {
    if (ctx > 0 && e->fed - e->base == ctx) {
      /* The cache is full: start again from the last half of what it held,
       * so that the next ctx / 2 tokens cost one step each. */
      for (int i = e->first_state; i >= 0 && i < e->nio && m->step_tensors[i].role == NNRT_STATE;
           i++)
        memset(e->io[i], 0, (size_t)(m->step_batch * m->step_tensors[i].size) * 4);
      e->base = e->fed - ctx / 2;
      e->fed = e->base;
    }
    tok[0] = ids[e->fed++];
    m->step(e->params, e->io, e->workspace);
    /* generation uses row 0: keep the other rows' states zero */
    for (int i = e->first_state; i >= 0 && i < e->nio && m->step_tensors[i].role == NNRT_STATE;
         i++) {
      int64_t sz = m->step_tensors[i].size;
      memset((char *)e->io[i] + (size_t)sz * 4, 0, (size_t)((m->step_batch - 1) * sz) * 4);
    }
  }
  return e->io[e->first_output];
}

static int generate(const nnrt_model *m, const float *params, const nnrt_vocab *v,
                    const char *prompt, int64_t n_tokens, const nnrt_sampling *s, uint64_t seed,
                    FILE *out, char **text, int recompute, nnrt_error *err) {
  static const nnrt_sampling greedy = {0};
  if (text) *text = NULL;
  if (!s) s = &greedy;
  if (nnrt_model_check(m, err)) return 1;
  if (!v || (v->kind != NNRT_TOKENS_WORDS && v->kind != NNRT_TOKENS_CHARS) || !v->table)
    return nnrt__fail(err, "generation needs a vocabulary");
  if (!params && m->num_params > 0) return nnrt__fail(err, "model '%s': no parameters", m->name);
  if (n_tokens < 0 || n_tokens > INT32_MAX)
    return nnrt__fail(err, "cannot generate %lld tokens", (long long)n_tokens);
  if (sampling_check(s, err)) return 1;
  int words = v->kind == NNRT_TOKENS_WORDS;
  engine e;
  if (engine_init(&e, m, params, v, recompute, err)) {
    engine_free(&e);
    return 1;
  }

  int32_t *ids = NULL;
  int64_t n_prompt = 0;
  if (!prompt) prompt = "";
  int rc = nnrt_vocab_encode(v, prompt, strlen(prompt), &ids, &n_prompt, err);
  if (!rc && n_prompt == 0)
    rc = nnrt__fail(
        err,
        words ? "the prompt has no words (punctuation is dropped, as in training): give at least "
                "one word to start from"
              : "the prompt is empty: give at least one character to start from");
  int32_t *all = NULL;
  if (!rc && !(all = malloc((size_t)(n_prompt + n_tokens) * sizeof *all)))
    rc = nnrt__fail(err, "out of memory");
  nnrt__buf b = {0};
  sink sk = {out, text ? &b : NULL};
  char *prompt_text = NULL;
  if (!rc) rc = nnrt_vocab_decode(v, ids, n_prompt, &prompt_text, err);
  if (!rc) {
    memcpy(all, ids, (size_t)n_prompt * sizeof *all);
    int64_t len = n_prompt;
    nnrt_rng rng;
    nnrt_rng_seed(&rng, seed);
    emit(&sk, prompt_text);
    for (int64_t k = 0; k < n_tokens; k++) {
      float *probs = (float *)engine_next(&e, all, len);
      if (words) probs[0] = 0.0f; /* the reserved id */
      int32_t id;
      if (nnrt_sample(probs, v->size, s, &rng, &id, err)) {
        nnrt__prefix(err, "generated token %lld", (long long)(k + 1));
        rc = 1;
        break;
      }
      if (words) emit(&sk, " ");
      emit(&sk, v->tokens[id]);
      all[len++] = id;
    }
    if (!rc && out && ferror(out)) rc = nnrt__fail(err, "cannot write the generated text");
    if (!rc && b.oom) rc = nnrt__fail(err, "out of memory");
  }
  if (!rc && text) {
    *text = b.p ? b.p : nnrt__strdup("");
    b.p = NULL;
    if (!*text) rc = nnrt__fail(err, "out of memory");
  }
  free(b.p);
  free(prompt_text);
  free(all);
  free(ids);
  engine_free(&e);
  return rc;
}

int nnrt_generate(const nnrt_model *m, const float *params, const nnrt_vocab *v, const char *prompt,
                  int64_t n_tokens, const nnrt_sampling *s, uint64_t seed, FILE *out, char **text,
                  nnrt_error *err) {
  return generate(m, params, v, prompt, n_tokens, s, seed, out, text, 0, err);
}

int nnrt_generate_recompute(const nnrt_model *m, const float *params, const nnrt_vocab *v,
                            const char *prompt, int64_t n_tokens, const nnrt_sampling *s,
                            uint64_t seed, FILE *out, char **text, nnrt_error *err) {
  return generate(m, params, v, prompt, n_tokens, s, seed, out, text, 1, err);
}
