/* Learning-rate schedules (nnrt/nnrt_schedules.def) and the monitored
 * metric: what nnrt_fit carries from epoch to epoch besides the parameters
 * (nnrt_fit_state). Each schedule follows the torch.optim.lr_scheduler
 * class its row names, so that a run reads the same rates as PyTorch's
 * (tests/numeric/ScheduleTests.cpp holds them against torch's). */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  size_t offset; /* of its double in nnrt_schedule */
  double value;
  char range;
} schedule_arg;

typedef struct {
  const char *name, *summary;
  schedule_arg args[8];
  int nargs;
} schedule_row;

#define NNRT_SCHEDULE_ARG(n, field, v, r) {#n, offsetof(nnrt_schedule, field), v, r},
#define NNRT_SCHEDULE(n, kind, summary, args)                                                      \
  {#n, summary, {args{0}}, (int)(sizeof((schedule_arg[]){args{0}}) / sizeof(schedule_arg)) - 1},
static const schedule_row rows[NNRT_SCHEDULE_COUNT] = {
#include "nnrt/nnrt_schedules.def"
};

static double *field(nnrt_schedule *s, const schedule_arg *a) {
  return (double *)((char *)s + a->offset);
}

const char *nnrt_schedule_names(void) {
  static char names[256];
  if (!names[0])
    for (int k = 0; k < NNRT_SCHEDULE_COUNT; k++) {
      strcat(names, k == 0 ? "" : k + 1 == NNRT_SCHEDULE_COUNT ? " or " : ", ");
      strcat(names, rows[k].name);
    }
  return names;
}

const char *nnrt_schedule_name(const nnrt_schedule *s) {
  return s->kind >= 0 && s->kind < NNRT_SCHEDULE_COUNT ? rows[s->kind].name : "?";
}

const char *nnrt_schedule_arg(const nnrt_schedule *s, int i) {
  if (s->kind < 0 || s->kind >= NNRT_SCHEDULE_COUNT) return NULL;
  return i >= 0 && i < rows[s->kind].nargs ? rows[s->kind].args[i].name : NULL;
}

int nnrt_schedule_init(nnrt_schedule *s, const char *name, nnrt_error *err) {
  memset(s, 0, sizeof *s);
  for (int k = 0; k < NNRT_SCHEDULE_COUNT; k++) {
    if (strcmp(rows[k].name, name) != 0) continue;
    s->kind = k;
    for (int i = 0; i < rows[k].nargs; i++) *field(s, &rows[k].args[i]) = rows[k].args[i].value;
    return 0;
  }
  return nnrt__fail(err, "unknown schedule '%s'; expected %s", name, nnrt_schedule_names());
}

static const char *range_violation(char range, double v) {
  switch (range) {
  case 'i':
    return v >= 0 && v == floor(v) && v < 1e15 ? NULL : "a non-negative integer";
  case 'p':
    return v > 0 && isfinite(v) ? NULL : "a positive number";
  case 'n':
    return v >= 0 && isfinite(v) ? NULL : "a non-negative number";
  default:
    return v > 0 && v < 1 ? NULL : "a number in (0, 1)";
  }
}

int nnrt_schedule_set(nnrt_schedule *s, const char *name, double value, nnrt_error *err) {
  if (s->kind < 0 || s->kind >= NNRT_SCHEDULE_COUNT)
    return nnrt__fail(err, "unknown schedule kind %d", s->kind);
  const schedule_row *row = &rows[s->kind];
  char list[160] = "";
  for (int i = 0; i < row->nargs; i++) {
    const schedule_arg *a = &row->args[i];
    if (strcmp(a->name, name) == 0) {
      const char *want = range_violation(a->range, value);
      if (want)
        return nnrt__fail(err, "argument '%s' of schedule %s must be %s, got %g", name, row->name,
                          want, value);
      *field(s, a) = value;
      return 0;
    }
    strcat(list, i ? ", " : "");
    strcat(list, a->name);
  }
  return nnrt__fail(err, "schedule %s has no argument '%s'%s%s", row->name, name,
                    row->nargs ? "; its arguments are " : " (it takes none)", list);
}

static const char *skip_space(const char *p) {
  while (isspace((unsigned char)*p)) p++;
  return p;
}

/* name [ "(" arg "=" number { "," arg "=" number } ")" ] */
int nnrt_schedule_parse(nnrt_schedule *s, const char *spec, nnrt_error *err) {
  const char *p = skip_space(spec);
  char name[32];
  size_t n = 0;
  while ((isalnum((unsigned char)*p) || *p == '_') && n + 1 < sizeof name) name[n++] = *p++;
  name[n] = 0;
  if (nnrt_schedule_init(s, name, err)) return 1;
  p = skip_space(p);
  if (*p == '(') {
    p = skip_space(p + 1);
    while (*p && *p != ')') {
      char arg[32];
      size_t k = 0;
      while ((isalnum((unsigned char)*p) || *p == '_') && k + 1 < sizeof arg) arg[k++] = *p++;
      arg[k] = 0;
      p = skip_space(p);
      if (k == 0 || *p != '=')
        return nnrt__fail(err, "schedule '%s': expected 'name = value' at '%s'", spec, p);
      char *end;
      double v = strtod(p + 1, &end);
      if (end == p + 1)
        return nnrt__fail(err, "schedule '%s': expected a number after '%s ='", spec, arg);
      if (nnrt_schedule_set(s, arg, v, err)) return 1;
      p = skip_space(end);
      if (*p == ',')
        p = skip_space(p + 1);
      else if (*p != ')')
        break;
    }
    if (*p != ')') return nnrt__fail(err, "schedule '%s': expected ')'", spec);
    p = skip_space(p + 1);
  }
  if (*p) return nnrt__fail(err, "schedule '%s': unexpected '%s'", spec, p);
  return 0;
}

static const char *const monitor_names[] = {"val_loss", "loss", "val_accuracy", "accuracy"};

int nnrt_monitor_parse(const char *name) {
  for (int i = 0; i < 4; i++)
    if (strcmp(name, monitor_names[i]) == 0) return i;
  return -1;
}

const char *nnrt_monitor_name(int monitor) {
  return monitor >= 0 && monitor < 4 ? monitor_names[monitor] : "?";
}

double nnrt_schedule_lr(const nnrt_schedule *s, const nnrt_fit_state *st, double lr, int64_t epoch,
                        int64_t step, int64_t total_steps) {
  switch (s->kind) {
  case NNRT_SCHEDULE_STEP:
    return lr * pow(s->gamma, floor((double)epoch / fmax(s->every, 1)));
  case NNRT_SCHEDULE_EXPONENTIAL:
    return lr * pow(s->gamma, (double)epoch);
  case NNRT_SCHEDULE_COSINE: {
    double t = (double)step, w = s->warmup, T = (double)total_steps;
    if (t < w) return lr * (t + 1) / w;
    if (T <= w) return lr;
    return s->min_lr +
           (lr - s->min_lr) * 0.5 * (1 + cos(3.14159265358979323846 * (t - w) / (T - w)));
  }
  case NNRT_SCHEDULE_PLATEAU:
    return st && st->started ? st->lr : lr;
  default:
    return lr;
  }
}

/* ---- the monitored metric and the plateau, epoch by epoch ---- */

static int maximizes(int monitor) {
  return monitor == NNRT_MONITOR_VAL_ACCURACY || monitor == NNRT_MONITOR_ACCURACY;
}

static double monitored(int monitor, const nnrt_epoch_stats *s) {
  switch (monitor) {
  case NNRT_MONITOR_LOSS:
    return s->loss;
  case NNRT_MONITOR_VAL_ACCURACY:
    return s->val_accuracy;
  case NNRT_MONITOR_ACCURACY:
    return s->accuracy;
  default:
    return s->val_loss;
  }
}

void nnrt_fit_state_start(nnrt_fit_state *st, double lr, int monitor) {
  if (st->started) return;
  memset(st, 0, sizeof *st);
  st->started = 1;
  st->lr = lr;
  st->best = st->plateau_best = maximizes(monitor) ? -INFINITY : INFINITY;
}

/* torch's ReduceLROnPlateau.step(metric), mode min or max, threshold_mode
 * rel, eps 1e-8. */
static void plateau_step(nnrt_fit_state *st, const nnrt_schedule *s, int max, double v) {
  double thr = s->threshold;
  int better = max ? v > st->plateau_best * (1 + thr) : v < st->plateau_best * (1 - thr);
  if (better) {
    st->plateau_best = v;
    st->bad_epochs = 0;
  } else {
    st->bad_epochs++;
  }
  if (st->cooldown_left > 0) {
    st->cooldown_left--;
    st->bad_epochs = 0;
  }
  if ((double)st->bad_epochs > s->patience) {
    double lower = fmax(st->lr * s->factor, s->min_lr);
    if (st->lr - lower > 1e-8) st->lr = lower;
    st->cooldown_left = (int64_t)s->cooldown;
    st->bad_epochs = 0;
  }
}

/* After an epoch: the best so far (stats->is_best; Keras's EarlyStopping
 * counts any strict improvement), the plateau's rate. Returns whether early
 * stopping (patience > 0) ends the run. */
int nnrt_fit_state_epoch_end(nnrt_fit_state *st, const nnrt_schedule *s, int monitor,
                             int64_t patience, nnrt_epoch_stats *stats) {
  double v = monitored(monitor, stats);
  int max = maximizes(monitor);
  stats->is_best = max ? v > st->best : v < st->best;
  if (stats->is_best) {
    st->best = v;
    st->best_epoch = stats->epoch;
    st->wait = 0;
  } else {
    st->wait++;
  }
  if (s->kind == NNRT_SCHEDULE_PLATEAU) plateau_step(st, s, max, v);
  return patience > 0 && st->wait >= patience;
}

/* Eight numbers in the struct's order, %.17g so that they read back
 * exactly ("inf" for a best not yet seen). */
char *nnrt_fit_state_encode(const nnrt_fit_state *st) {
  char *out = malloc(256);
  if (!out) return NULL;
  snprintf(out, 256, "%d %.17g %.17g %lld %lld %.17g %lld %lld", st->started, st->lr,
           st->plateau_best, (long long)st->bad_epochs, (long long)st->cooldown_left, st->best,
           (long long)st->best_epoch, (long long)st->wait);
  return out;
}

int nnrt_fit_state_decode(const char *text, nnrt_fit_state *st, nnrt_error *err) {
  nnrt_fit_state t = {0};
  long long bad, cool, epoch, wait;
  int used = 0;
  if (sscanf(text, "%d %lg %lg %lld %lld %lg %lld %lld%n", &t.started, &t.lr, &t.plateau_best, &bad,
             &cool, &t.best, &epoch, &wait, &used) != 8 ||
      text[used] != 0 || !(t.lr >= 0) || bad < 0 || cool < 0 || epoch < 0 || wait < 0)
    return nnrt__fail(err, "the training state '%.60s' is not 8 numbers as nnc writes them", text);
  t.bad_epochs = bad;
  t.cooldown_left = cool;
  t.best_epoch = epoch;
  t.wait = wait;
  *st = t;
  return 0;
}
