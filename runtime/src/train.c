/* train.c: the training loop, evaluation and prediction. Generated steps
 * are fast (a few microseconds for Iris), so the loop allocates its staging
 * buffers once and does nothing per step but copy rows and call the model. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Batch staging: one buffer per input, target and output, plus the row
 * weights, and the io pointer arrays in the ABI's two layouts. */
typedef struct {
  const nnrt_model *m;
  int n_in, n_tgt, n_out;
  int first_in, first_tgt, first_out;
  void **io;     /* inputs, targets, weights, outputs (train/eval_step) */
  void **pio;    /* inputs, outputs (predict) */
  void **fields; /* staging of inputs then targets */
  void **outs;
  float *weights;
  void *workspace; /* the model's workspace_bytes, reused by every call */
  int has_acc;     /* accuracy is defined for this model */
  int64_t classes, positions;
} staging;

static void staging_free(staging *st) {
  for (int i = 0; st->fields && i < st->n_in + st->n_tgt; i++) free(st->fields[i]);
  for (int i = 0; st->outs && i < st->n_out; i++) free(st->outs[i]);
  free(st->fields);
  free(st->outs);
  free(st->io);
  free(st->pio);
  free(st->weights);
  nnrt_free_floats(st->workspace);
  memset(st, 0, sizeof *st);
}

static int staging_init(staging *st, const nnrt_model *m, nnrt_error *err) {
  memset(st, 0, sizeof *st);
  st->m = m;
  st->n_in = nnrt_model_count(m, NNRT_INPUT, &st->first_in);
  st->n_tgt = nnrt_model_count(m, NNRT_TARGET, &st->first_tgt);
  st->n_out = nnrt_model_count(m, NNRT_OUTPUT, &st->first_out);
  if (st->n_in + st->n_tgt > NNRT_MAX_FIELDS)
    return nnrt__fail(err, "model '%s' has more than %d inputs and targets", m->name,
                      NNRT_MAX_FIELDS);
  int nf = st->n_in + st->n_tgt;
  st->fields = calloc((size_t)nf + 1, sizeof(void *));
  st->outs = calloc((size_t)st->n_out + 1, sizeof(void *));
  st->io = calloc((size_t)(nf + 1 + st->n_out), sizeof(void *));
  st->pio = calloc((size_t)(st->n_in + st->n_out) + 1, sizeof(void *));
  st->weights = calloc((size_t)m->batch, sizeof(float));
  st->workspace = nnrt_alloc_workspace(m);
  if (!st->fields || !st->outs || !st->io || !st->pio || !st->weights || !st->workspace) goto oom;
  for (int i = 0; i < nf; i++) {
    const nnrt_tensor_info *t =
        &m->tensors[(i < st->n_in ? st->first_in + i : st->first_tgt + i - st->n_in)];
    st->fields[i] = calloc((size_t)(m->batch * t->size) + 1, 4);
    if (!st->fields[i]) goto oom;
  }
  for (int i = 0; i < st->n_out; i++) {
    st->outs[i] = calloc((size_t)(m->batch * m->tensors[st->first_out + i].size) + 1, 4);
    if (!st->outs[i]) goto oom;
  }
  int k = 0;
  for (int i = 0; i < nf; i++) st->io[k++] = st->fields[i];
  st->io[k++] = st->weights;
  for (int i = 0; i < st->n_out; i++) st->io[k++] = st->outs[i];
  k = 0;
  for (int i = 0; i < st->n_in; i++) st->pio[k++] = st->fields[i];
  for (int i = 0; i < st->n_out; i++) st->pio[k++] = st->outs[i];

  /* Accuracy: argmax over the last dimension of the first output against
   * the first target, which holds one class index per position. */
  if (m->loss == NNRT_LOSS_CROSS_ENTROPY && st->n_out > 0 && st->n_tgt > 0) {
    const nnrt_tensor_info *o = &m->tensors[st->first_out], *y = &m->tensors[st->first_tgt];
    if (o->dtype == NNRT_F32 && y->dtype == NNRT_I32 && o->rank >= 1 && o->shape[o->rank - 1] > 0) {
      st->classes = o->shape[o->rank - 1];
      st->positions = o->size / st->classes;
      st->has_acc = st->positions > 0 && y->size == st->positions;
    }
  }
  return 0;
oom:
  staging_free(st);
  return nnrt__fail(err, "out of memory for the batch buffers of model '%s'", m->name);
}

/* Copies `count` rows of ds (rows[i], or start + i when rows is NULL) into
 * the first nf staging buffers, zero-fills the padding rows, and sets the
 * weights: 1 for real rows, 0 for padding. */
static void gather(staging *st, const nnrt_dataset *ds, int nf, const int64_t *rows, int64_t start,
                   int64_t count) {
  int64_t batch = st->m->batch;
  for (int f = 0; f < nf; f++) {
    size_t row_bytes = (size_t)ds->fields[f].size * 4;
    const char *src = ds->fields[f].data;
    char *dst = st->fields[f];
    if (rows && ds->fields[f].size <= 16) {
      /* Small rows (Iris has 4 floats): an inline copy beats a memcpy call. */
      for (int64_t r = 0; r < count; r++) {
        const char *s = src + (size_t)rows[r] * row_bytes;
        char *d = dst + (size_t)r * row_bytes;
        for (size_t k = 0; k < row_bytes; k += 4) memcpy(d + k, s + k, 4); /* one mov each */
      }
    } else if (rows) {
      for (int64_t r = 0; r < count; r++)
        memcpy(dst + (size_t)r * row_bytes, src + (size_t)rows[r] * row_bytes, row_bytes);
    } else {
      memcpy(dst, src + (size_t)start * row_bytes, (size_t)count * row_bytes);
    }
    if (count < batch)
      memset(dst + (size_t)count * row_bytes, 0, (size_t)(batch - count) * row_bytes);
  }
  for (int64_t r = 0; r < batch; r++) st->weights[r] = r < count ? 1.0f : 0.0f;
}

/* Sum over the first `count` rows of the fraction of (labelled) positions
 * whose argmax matches the target. */
static double batch_correct(const staging *st, int64_t count) {
  const float *out = st->outs[0];
  const int32_t *y = st->fields[st->n_in];
  int64_t C = st->classes, P = st->positions;
  double total = 0;
  if (P == 1) { /* the usual case: one label per example, no division */
    int64_t hits = 0;
    for (int64_t r = 0; r < count; r++) {
      const float *v = out + r * C;
      int64_t best = 0;
      for (int64_t c = 1; c < C; c++)
        if (v[c] > v[best]) best = c;
      hits += best == y[r];
    }
    return (double)hits;
  }
  /* A negative label is a position the loss ignores (masked-token data
   * labels only the masked ones): the fraction is over the labelled
   * positions, and a row without any counts as 0. */
  for (int64_t r = 0; r < count; r++) {
    int64_t hits = 0, labelled = 0;
    for (int64_t p = 0; p < P; p++) {
      if (y[r * P + p] < 0) continue;
      const float *v = out + (r * P + p) * C;
      int64_t best = 0;
      for (int64_t c = 1; c < C; c++)
        if (v[c] > v[best]) best = c;
      hits += best == y[r * P + p];
      labelled++;
    }
    if (labelled) total += (double)hits / (double)labelled;
  }
  return total;
}

static void evaluate_with(staging *st, const float *params, const nnrt_dataset *ds, float *loss,
                          float *acc) {
  const nnrt_model *m = st->m;
  double loss_sum = 0, correct = 0;
  for (int64_t b = 0; b < ds->n; b += m->batch) {
    int64_t count = ds->n - b < m->batch ? ds->n - b : m->batch;
    gather(st, ds, st->n_in + st->n_tgt, NULL, b, count);
    loss_sum += (double)m->eval_step(params, st->io, st->workspace) * (double)count;
    if (st->has_acc) correct += batch_correct(st, count);
  }
  *loss = ds->n ? (float)(loss_sum / (double)ds->n) : NAN;
  if (acc) *acc = st->has_acc && ds->n ? (float)(correct / (double)ds->n) : NAN;
}

int nnrt_evaluate(const nnrt_model *m, const float *params, const nnrt_dataset *ds, float *loss,
                  float *acc, nnrt_error *err) {
  if (nnrt_model_check(m, err)) return 1;
  if (!m->eval_step) return nnrt__fail(err, "model '%s' has no eval_step", m->name);
  if (nnrt_dataset_check(ds, m, 1, "evaluation data", err)) return 1;
  staging st;
  if (staging_init(&st, m, err)) return 1;
  float ignored;
  evaluate_with(&st, params, ds, loss ? loss : &ignored, acc);
  staging_free(&st);
  return 0;
}

int64_t nnrt_steps_per_epoch(const nnrt_model *m, int64_t n) {
  return m->batch > 0 ? (n + m->batch - 1) / m->batch : 0;
}

void nnrt_history_free(nnrt_history *h) {
  if (!h) return;
  free(h->loss);
  free(h->accuracy);
  free(h->val_loss);
  free(h->val_accuracy);
  free(h->seconds);
  memset(h, 0, sizeof *h);
}

static int history_reserve(nnrt_history *h, int64_t extra) {
  if (h->count + extra <= h->capacity) return 0;
  int64_t cap = h->count + extra;
  float **fs[4] = {&h->loss, &h->accuracy, &h->val_loss, &h->val_accuracy};
  for (int i = 0; i < 4; i++) {
    float *p = realloc(*fs[i], (size_t)cap * sizeof(float));
    if (!p) return 1;
    *fs[i] = p;
  }
  double *s = realloc(h->seconds, (size_t)cap * sizeof(double));
  if (!s) return 1;
  h->seconds = s;
  h->capacity = cap;
  return 0;
}

/* A bijective mix, so each (seed, epoch) pair gets an unrelated stream. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* The first parameter tensor holding a NaN or an infinity, or -1. */
static int first_nonfinite_param(const nnrt_model *m, const float *params) {
  for (int i = 0; i < m->num_tensors; i++) {
    const nnrt_tensor_info *t = &m->tensors[i];
    if (t->role != NNRT_PARAM) continue;
    for (int64_t k = 0; k < t->size; k++)
      if (!isfinite(params[t->offset + k])) return i;
  }
  return -1;
}

/* The parameters and optimizer state at the end of the last good epoch, to
 * go back to when a step goes non-finite. */
typedef struct {
  float *params, *state;
  size_t np, ns;
} snapshot;

static int snapshot_init(snapshot *s, const nnrt_model *m) {
  s->np = (size_t)m->num_params;
  s->ns = (size_t)m->opt_state_size;
  s->params = malloc(s->np * sizeof(float) + 1);
  s->state = malloc(s->ns * sizeof(float) + 1);
  return s->params && s->state ? 0 : 1;
}

static void snapshot_take(snapshot *s, const float *params, const float *state) {
  memcpy(s->params, params, s->np * sizeof(float));
  if (state) memcpy(s->state, state, s->ns * sizeof(float));
}

static void snapshot_free(snapshot *s) {
  free(s->params);
  free(s->state);
}

/* Whether the step that just ran left the run healthy; if not, restores the
 * snapshot and writes why into err. */
static const char *nonfinite_name(float v) { return isnan(v) ? "nan" : "infinite"; }

/* `grad_norm`: the global norm of the step's gradient, which the step
 * wrote into hyper[NNRT_HYPER_GRAD_NORM]. */
static int step_is_finite(const nnrt_model *m, const nnrt_fit_config *cfg, float loss,
                          float grad_norm, float *params, float *opt_state, const snapshot *good,
                          int64_t epoch, int64_t step, int64_t batch, int64_t batches,
                          nnrt_error *err) {
  int lossOk = isfinite(loss), gradOk = isfinite(grad_norm);
  int bad = !lossOk || !gradOk || cfg->check_numerics ? first_nonfinite_param(m, params) : -1;
  if (lossOk && gradOk && bad < 0) return 1;
  char what[160], how[96];
  if (bad >= 0)
    snprintf(what, sizeof what, "the first parameter with a non-finite value after it: '%s'",
             m->tensors[bad].name);
  else
    snprintf(what, sizeof what, "every parameter is still finite");
  if (!lossOk)
    snprintf(how, sizeof how, "the loss is %s", nonfinite_name(loss));
  else if (!gradOk)
    snprintf(how, sizeof how, "the loss is finite but the gradient's norm is %s",
             nonfinite_name(grad_norm));
  else
    snprintf(how, sizeof how, "the loss is finite but a parameter is not");
  nnrt__fail(err,
             "epoch %lld, step %lld (batch %lld of %lld): %s; %s. Training stopped; "
             "the parameters and optimizer state are those of the end of epoch %lld (try a lower "
             "learning rate%s)",
             (long long)epoch, (long long)step, (long long)batch, (long long)batches, how, what,
             (long long)(epoch - 1), cfg->check_numerics ? "" : ", or --check-numerics");
  memcpy(params, good->params, good->np * sizeof(float));
  if (opt_state) memcpy(opt_state, good->state, good->ns * sizeof(float));
  return 0;
}

static void format_seconds(char *out, size_t size, double s) {
  if (s < 1.0)
    snprintf(out, size, "%.0fms", s * 1e3);
  else
    snprintf(out, size, "%.1fs", s);
}

/* Data parallelism: the gradient buffer of grad_step and, after it, the
 * sums every rank contributes to the all-reduce. */
enum { DP_LOSS, DP_CORRECT, DP_COUNT, DP_EXTRA };

/* One step of data-parallel training on the global batch of rows
 * order[b..] (nnrt_fit_config): this rank's share through grad_step, the
 * buffers summed over the ranks, the update. *loss gets the step's mean
 * loss, *count the global batch's rows, *correct their correct
 * predictions. Non-zero (err set) when the all-reduce failed. */
static int parallel_step(staging *st, const nnrt_fit_config *cfg, const nnrt_dataset *train,
                         const int64_t *order, int64_t b, float *params, float *opt_state,
                         float *hyper, float *buf, float *loss, double *correct, int64_t *count,
                         double *reduce_seconds, nnrt_error *err) {
  const nnrt_model *m = st->m;
  int64_t n = train->n, global = m->batch * cfg->world, P = m->num_params;
  int64_t first = b + (int64_t)cfg->rank * m->batch;
  int64_t mine = first >= n ? 0 : (n - first < m->batch ? n - first : m->batch);
  gather(st, train, st->n_in + st->n_tgt, order + (first < n ? first : 0), 0, mine);
  memset(buf, 0, (size_t)(P + 1 + DP_EXTRA) * sizeof(float));
  hyper[NNRT_HYPER_ROW_OFFSET] = (float)(cfg->rank * m->batch);
  float *extra = buf + P + 1;
  extra[DP_LOSS] = m->grad_step(params, hyper, buf, st->io, st->workspace);
  extra[DP_CORRECT] = st->has_acc ? (float)batch_correct(st, mine) : 0.0f;
  extra[DP_COUNT] = (float)mine;
  double t0 = nnrt_now_seconds();
  if (cfg->allreduce(cfg->comm, buf, P + 1 + DP_EXTRA))
    return nnrt__fail(err, "rank %d: the all-reduce of the gradients failed", cfg->rank);
  *reduce_seconds += nnrt_now_seconds() - t0;
  m->apply_step(params, opt_state, hyper, buf, st->workspace);
  *correct += extra[DP_CORRECT];
  *count = n - b < global ? n - b : global;
  *loss = extra[DP_LOSS] / buf[P];
  return 0;
}

static void record_epoch(nnrt_history *hist, const nnrt_epoch_stats *s) {
  if (!hist) return;
  int64_t k = hist->count++;
  hist->loss[k] = s->loss;
  hist->accuracy[k] = s->accuracy;
  hist->val_loss[k] = s->val_loss;
  hist->val_accuracy[k] = s->val_accuracy;
  hist->seconds[k] = s->seconds;
  hist->last_step = s->step;
}

/* Keras's line: "Epoch 3/10 - 12ms - loss: ... - val_accuracy: ...", and
 * the learning rate when a schedule sets it. */
static void log_epoch(FILE *log, const nnrt_fit_config *cfg, const nnrt_epoch_stats *s, int has_acc,
                      int has_val) {
  char t[32];
  format_seconds(t, sizeof t, s->seconds);
  fprintf(log, "Epoch %lld/%lld - %s - loss: %.4f", (long long)s->epoch, (long long)cfg->epochs, t,
          s->loss);
  if (has_acc) fprintf(log, " - accuracy: %.4f", s->accuracy);
  if (has_val) {
    fprintf(log, " - val_loss: %.4f", s->val_loss);
    if (has_acc) fprintf(log, " - val_accuracy: %.4f", s->val_accuracy);
  }
  if (cfg->schedule.kind != NNRT_SCHEDULE_CONSTANT) fprintf(log, " - lr: %.4g", s->lr);
  fputc('\n', log);
  fflush(log);
}

/* What the schedule, the monitor and early stopping need, checked before
 * the first step. */
static int check_schedule(const nnrt_fit_config *cfg, int has_acc, int has_val, nnrt_error *err) {
  if (cfg->schedule.kind < 0 || cfg->schedule.kind >= NNRT_SCHEDULE_COUNT)
    return nnrt__fail(err, "unknown schedule kind %d", cfg->schedule.kind);
  if (!(cfg->clip_norm >= 0) || !isfinite(cfg->clip_norm))
    return nnrt__fail(err, "clip norm %g is not a non-negative number (0: no clipping)",
                      cfg->clip_norm);
  if (cfg->early_stopping < 0)
    return nnrt__fail(err, "early stopping patience %lld is negative",
                      (long long)cfg->early_stopping);
  int watched = cfg->early_stopping > 0 || cfg->schedule.kind == NNRT_SCHEDULE_PLATEAU;
  const char *name = nnrt_monitor_name(cfg->monitor);
  if (nnrt_monitor_parse(name) < 0) return nnrt__fail(err, "unknown monitor %d", cfg->monitor);
  int val = cfg->monitor == NNRT_MONITOR_VAL_LOSS || cfg->monitor == NNRT_MONITOR_VAL_ACCURACY;
  int acc = cfg->monitor == NNRT_MONITOR_ACCURACY || cfg->monitor == NNRT_MONITOR_VAL_ACCURACY;
  if (watched && val && !has_val)
    return nnrt__fail(err,
                      "%s watches %s, which needs validation data (validation_split or "
                      "validation_data), or monitor loss",
                      cfg->early_stopping > 0 ? "early stopping" : "the plateau schedule", name);
  if (watched && acc && !has_acc)
    return nnrt__fail(err, "the model has no accuracy to monitor (it is not a classifier): "
                           "monitor loss or val_loss");
  return 0;
}

int nnrt_fit(const nnrt_model *m, float *params, float *opt_state, const nnrt_dataset *train,
             const nnrt_dataset *val, const nnrt_fit_config *cfg, nnrt_history *hist, FILE *log,
             nnrt_error *err) {
  if (nnrt_model_check(m, err)) return 1;
  if (!m->train_step) return nnrt__fail(err, "model '%s' has no train_step", m->name);
  if (val && !m->eval_step) return nnrt__fail(err, "model '%s' has no eval_step", m->name);
  if (m->opt_state_size > 0 && !opt_state)
    return nnrt__fail(err, "model '%s' needs optimizer state", m->name);
  if (nnrt_dataset_check(train, m, 1, "training data", err)) return 1;
  if (val && nnrt_dataset_check(val, m, 1, "validation data", err)) return 1;
  if (train->n <= 0) return nnrt__fail(err, "no training examples");
  if (cfg->initial_epoch < 0 || cfg->epochs < cfg->initial_epoch)
    return nnrt__fail(err, "cannot train from epoch %lld to %lld", (long long)cfg->initial_epoch,
                      (long long)cfg->epochs);
  if (!(cfg->learning_rate >= 0) || !isfinite(cfg->learning_rate))
    return nnrt__fail(err, "learning rate %g is not a non-negative number", cfg->learning_rate);
  int parallel = cfg->world > 1;
  if (parallel && (!cfg->allreduce || cfg->rank < 0 || cfg->rank >= cfg->world))
    return nnrt__fail(err, "data-parallel training needs an all-reduce and a rank below %d",
                      cfg->world);
  if (parallel && (!m->grad_step || !m->apply_step))
    return nnrt__fail(err, "model '%s' has no grad_step and apply_step", m->name);

  staging st;
  if (staging_init(&st, m, err)) return 1;
  int has_val = val && val->n > 0;
  if (check_schedule(cfg, st.has_acc, has_val, err)) {
    staging_free(&st);
    return 1;
  }
  int64_t n = train->n, nf = st.n_in + st.n_tgt;
  int64_t *order = malloc((size_t)n * sizeof *order);
  int64_t step_rows = parallel ? m->batch * cfg->world : m->batch;
  float *buf = parallel ? malloc((size_t)(m->num_params + 1 + DP_EXTRA) * sizeof(float)) : NULL;
  snapshot good = {0}, best = {0};
  int have_best = 0;
  if (!order || (parallel && !buf) || snapshot_init(&good, m) ||
      (cfg->early_stopping > 0 && snapshot_init(&best, m)) ||
      (hist && history_reserve(hist, cfg->epochs - cfg->initial_epoch))) {
    free(order);
    free(buf);
    snapshot_free(&good);
    snapshot_free(&best);
    staging_free(&st);
    return nnrt__fail(err, "out of memory");
  }
  nnrt_fit_state local = {0}, *fs = cfg->state ? cfg->state : &local;
  nnrt_fit_state_start(fs, cfg->learning_rate, cfg->monitor);
  int64_t batches = (n + step_rows - 1) / step_rows;
  int64_t total_steps = cfg->epochs * batches;
  float lr = cfg->learning_rate;
  if (hist) hist->last_step = cfg->start_step;
  double reduce_seconds = 0;
  int64_t reduces = 0;
  int rc = 0;
  float *state = m->opt_state_size > 0 ? opt_state : NULL; /* what a snapshot keeps */

  float hyper[NNRT_HYPER_COUNT] = {0};
  hyper[NNRT_HYPER_LR] = cfg->learning_rate;
  hyper[NNRT_HYPER_CLIP_NORM] = cfg->clip_norm;
  int64_t step = cfg->start_step;
  for (int64_t e = cfg->initial_epoch; e < cfg->epochs; e++) {
    double t0 = nnrt_now_seconds();
    for (int64_t i = 0; i < n; i++) order[i] = i;
    if (cfg->shuffle) {
      nnrt_rng rng;
      nnrt_rng_seed(&rng, mix64(cfg->seed * 0xd1b54a32d192ed03ULL + (uint64_t)e));
      nnrt_rng_shuffle(&rng, order, n);
    }
    double loss_sum = 0, correct = 0;
    int64_t seen = 0;
    snapshot_take(&good, params, state);
    nnrt__progress bar;
    nnrt__progress_begin(&bar, log && cfg->verbose ? log : NULL, cfg->progress_seconds,
                         cfg->progress_tty, st.has_acc, e + 1, cfg->epochs, batches);
    for (int64_t b = 0; b < n && !rc; b += step_rows) {
      int64_t count = n - b < m->batch ? n - b : m->batch;
      lr = (float)nnrt_schedule_lr(&cfg->schedule, fs, cfg->learning_rate, e, step, total_steps);
      hyper[NNRT_HYPER_LR] = lr;
      hyper[NNRT_HYPER_STEP] = (float)++step;
      float loss = 0;
      if (parallel) {
        if (parallel_step(&st, cfg, train, order, b, params, opt_state, hyper, buf, &loss, &correct,
                          &count, &reduce_seconds, err)) {
          rc = 1;
          break;
        }
        reduces++;
      } else {
        gather(&st, train, (int)nf, order + b, 0, count);
        loss = m->train_step(params, opt_state, hyper, st.io, st.workspace);
        if (st.has_acc) correct += batch_correct(&st, count);
      }
      if (!step_is_finite(m, cfg, loss, hyper[NNRT_HYPER_GRAD_NORM], params, state, &good, e + 1,
                          step, b / step_rows + 1, batches, err))
        rc = NNRT_FIT_NONFINITE;
      loss_sum += (double)loss * (double)count;
      seen += count;
      nnrt__progress_step(&bar, b / step_rows + 1, seen, loss_sum / (double)seen,
                          correct / (double)seen);
    }
    nnrt__progress_end(&bar);
    if (rc) break;
    nnrt_epoch_stats s = {0};
    s.epoch = e + 1;
    s.step = step;
    s.loss = (float)(loss_sum / (double)n);
    s.accuracy = st.has_acc ? (float)(correct / (double)n) : NAN;
    s.val_loss = s.val_accuracy = NAN;
    if (has_val) evaluate_with(&st, params, val, &s.val_loss, &s.val_accuracy);
    s.seconds = nnrt_now_seconds() - t0;
    s.lr = lr;
    int stop = nnrt_fit_state_epoch_end(fs, &cfg->schedule, cfg->monitor, cfg->early_stopping, &s);
    if (cfg->early_stopping > 0 && s.is_best) {
      snapshot_take(&best, params, NULL);
      have_best = 1;
    }
    record_epoch(hist, &s);
    if (log && cfg->verbose) log_epoch(log, cfg, &s, st.has_acc, has_val);
    if (cfg->on_epoch && cfg->on_epoch(cfg->user, &s)) break;
    if (stop) {
      /* Keras's EarlyStopping(restore_best_weights=True). */
      if (have_best) memcpy(params, best.params, best.np * sizeof(float));
      if (log && cfg->verbose)
        fprintf(log,
                "Early stopping: %s has not improved for %lld epochs; %s the best epoch, %lld "
                "(%s %.4f)\n",
                nnrt_monitor_name(cfg->monitor), (long long)fs->wait,
                have_best ? "restored the parameters of" : "the parameters are not those of",
                (long long)fs->best_epoch, nnrt_monitor_name(cfg->monitor), fs->best);
      break;
    }
  }
  if (hist) {
    hist->allreduce_count += reduces;
    hist->allreduce_seconds += reduce_seconds;
  }
  free(order);
  free(buf);
  snapshot_free(&good);
  snapshot_free(&best);
  staging_free(&st);
  nnrt_release_memory();
  return rc;
}

int nnrt_predict(const nnrt_model *m, const float *params, const nnrt_dataset *x, nnrt_dataset *out,
                 nnrt_error *err) {
  memset(out, 0, sizeof *out);
  if (nnrt_model_check(m, err)) return 1;
  if (!m->predict) return nnrt__fail(err, "model '%s' has no predict", m->name);
  if (nnrt_dataset_check(x, m, 0, "prediction input", err)) return 1;
  staging st;
  if (staging_init(&st, m, err)) return 1;
  if (st.n_out > NNRT_MAX_FIELDS) {
    staging_free(&st);
    return nnrt__fail(err, "model '%s' has more than %d outputs", m->name, NNRT_MAX_FIELDS);
  }
  int32_t dtypes[NNRT_MAX_FIELDS];
  int64_t sizes[NNRT_MAX_FIELDS];
  for (int i = 0; i < st.n_out; i++) {
    dtypes[i] = m->tensors[st.first_out + i].dtype;
    sizes[i] = m->tensors[st.first_out + i].size;
  }
  if (nnrt_dataset_alloc(out, x->n, st.n_out, dtypes, sizes, err) ||
      nnrt_dataset_set_class_names(out, (const char *const *)x->class_names, x->num_classes, err)) {
    nnrt_dataset_free(out);
    staging_free(&st);
    return 1;
  }
  for (int64_t b = 0; b < x->n; b += m->batch) {
    int64_t count = x->n - b < m->batch ? x->n - b : m->batch;
    gather(&st, x, st.n_in, NULL, b, count);
    m->predict(params, st.pio, st.workspace);
    for (int i = 0; i < st.n_out; i++) {
      size_t row_bytes = (size_t)sizes[i] * 4;
      memcpy((char *)out->fields[i].data + (size_t)b * row_bytes, st.outs[i],
             (size_t)count * row_bytes);
    }
  }
  staging_free(&st);
  return 0;
}

void nnrt_print_predictions(FILE *f, const float *probs, int64_t n, int64_t k,
                            const char *const *names, int num_names) {
  if (num_names < k) names = NULL; /* names must cover every class */
  int width = 1;
  for (int64_t c = 0; names && c < k; c++) {
    int w = (int)strlen(names[c]);
    if (w > width) width = w;
  }
  for (int64_t r = 0; r < n; r++) {
    const float *p = probs + r * k;
    int64_t best = 0;
    for (int64_t c = 1; c < k; c++)
      if (p[c] > p[best]) best = c;
    if (names)
      fprintf(f, "%-*s  (", width, names[best]);
    else
      fprintf(f, "%-*lld  (", width, (long long)best);
    for (int64_t c = 0; c < k; c++) {
      if (names)
        fprintf(f, "%s%s %.3f", c ? ", " : "", names[c], p[c]);
      else
        fprintf(f, "%s%lld: %.3f", c ? ", " : "", (long long)c, p[c]);
    }
    fputs(")\n", f);
  }
}
