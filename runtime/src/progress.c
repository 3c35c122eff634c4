/* progress.c: Keras's progress while an epoch trains. On a terminal, one
 * line redrawn in place, at most ten times a second: the steps done, a
 * bar, the time left, the running loss and accuracy and the samples per
 * second; the epoch's summary line then takes its place. Anywhere else (a
 * file, a pipe) a plain, indented line at most every `every` seconds, so a
 * long epoch shows it is alive and a log stays readable (its lines do not
 * start with "Epoch", which scripts read). */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

enum { BAR_WIDTH = 30 };
static const double kRedraw = 0.1;      /* seconds between redraws on a terminal */
static const double kPlainEvery = 10.0; /* default seconds between plain lines */

void nnrt__progress_begin(nnrt__progress *p, FILE *f, double every, int tty, int has_acc,
                          int64_t epoch, int64_t epochs, int64_t steps) {
  p->f = f;
  p->tty = f && (tty ? tty > 0 : isatty(fileno(f)));
  p->every = every == 0 ? kPlainEvery : every;
  p->has_acc = has_acc;
  p->epoch = epoch;
  p->epochs = epochs;
  p->steps = steps;
  p->start = p->last = nnrt_now_seconds();
  p->drawn = 0;
}

/* Keras's forms: 850ms, 42s, 3:05, 1:02:03. */
static void format_duration(char *out, size_t size, double s) {
  if (s > 0 && s < 1)
    snprintf(out, size, "%.0fms", s * 1e3);
  else if (s < 60)
    snprintf(out, size, "%.0fs", s);
  else if (s < 3600)
    snprintf(out, size, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(out, size, "%d:%02d:%02d", (int)(s / 3600), (int)fmod(s / 60, 60), (int)fmod(s, 60));
}

void nnrt__progress_step(nnrt__progress *p, int64_t done, int64_t samples, double loss,
                         double acc) {
  if (!p->f || p->every < 0) return;
  double now = nnrt_now_seconds(), elapsed = now - p->start;
  /* The last step is drawn on a terminal (the bar full); elsewhere the
   * epoch's own line follows at once. */
  int last = done >= p->steps;
  if (last ? !p->tty : now - p->last < (p->tty ? kRedraw : p->every)) return;
  p->last = now;
  char eta[32], spent[32];
  /* The time left in whole seconds, rounded up: "0s" only when done. */
  double left = done > 0 ? elapsed / (double)done * (double)(p->steps - done) : 0;
  format_duration(eta, sizeof eta, left > 0 && left < 1 ? 1 : ceil(left));
  format_duration(spent, sizeof spent, elapsed);
  double rate = elapsed > 0 ? (double)samples / elapsed : 0;
  if (p->tty) {
    char bar[BAR_WIDTH + 1];
    int filled = p->steps > 0 ? (int)(BAR_WIDTH * done / p->steps) : BAR_WIDTH;
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '=' : i == filled ? '>' : '.';
    bar[BAR_WIDTH] = 0;
    fprintf(p->f, "\r\033[KEpoch %lld/%lld %lld/%lld [%s] - ETA: %s - loss: %.4f",
            (long long)p->epoch, (long long)p->epochs, (long long)done, (long long)p->steps, bar,
            eta, loss);
  } else {
    fprintf(p->f, "  %lld/%lld - %s - ETA: %s - loss: %.4f", (long long)done, (long long)p->steps,
            spent, eta, loss);
  }
  if (p->has_acc) fprintf(p->f, " - accuracy: %.4f", acc);
  fprintf(p->f, " - %.0f samples/s%s", rate, p->tty ? "" : "\n");
  fflush(p->f);
  p->drawn = 1;
}

void nnrt__progress_end(nnrt__progress *p) {
  if (p->f && p->tty && p->drawn) fputs("\r\033[K", p->f);
  p->drawn = 0;
}
