/* nnrt.h: the runtime that nnc-generated models link against: datasets and
 * CSV loading, splitting and scaling, the training loop, safetensors
 * checkpoints, metrics and prediction; text corpora, vocabularies, sampling
 * and generation for recurrent models. Valid C11 and C++.
 *
 * Conventions: every function that can fail returns 0 on success and a
 * non-zero status otherwise, with a one-line message (naming file and line
 * where there is one) in the caller's nnrt_error. Nothing here aborts on
 * bad input. Objects are plain structs; zero-initialise them before first
 * use, free them with their _free function (which accepts a zeroed or
 * already-freed struct).
 */
#ifndef NNRT_H
#define NNRT_H

#include <stdint.h>
#include <stdio.h>

#include "nnrt_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nnrt_error {
  char msg[1024];
} nnrt_error;

/* ---- utilities ---------------------------------------------------------- */

/* Monotonic wall clock, for timing only. */
double nnrt_now_seconds(void);

/* Generated code keeps the large temporaries a step frees for the next step
 * (runtime/src/alloc.c): up to 1 GiB for the process. This gives them back;
 * nnrt_fit calls it when training ends. */
void nnrt_release_memory(void);

/* n floats, zeroed, 64-byte aligned, for a model's parameters and optimizer
 * state: from 2 MiB on they are mapped on transparent huge pages (where the
 * system offers them), so products that stream the weights miss the TLB far
 * less (batch-1 generation of the H=512 char LSTM: ~15% faster). NULL when
 * out of memory or n < 0. Free with nnrt_free_floats (NULL is fine). */
float *nnrt_alloc_floats(int64_t n);
void nnrt_free_floats(float *p);

/* A workspace for model `m` (its workspace_bytes, from nnrt_alloc_floats):
 * one per model instance, passed last to predict, train_step, eval_step and
 * step. Never NULL unless out of memory; free with nnrt_free_floats. */
void *nnrt_alloc_workspace(const nnrt_model *m);

/* Allocations the generated code made since the process started: `calls` to
 * its allocator, of which `fresh` were new blocks (not from the cache of
 * freed ones), `fresh_bytes` their size. A steady-state step on a workspace
 * makes none (tests and bench/ read these). */
typedef struct nnrt_alloc_stats {
  int64_t calls, fresh, fresh_bytes;
} nnrt_alloc_stats;
void nnrt_alloc_stats_get(nnrt_alloc_stats *s);

/* xoshiro256** seeded through splitmix64: the same seed gives the same
 * stream on every platform, so shuffles and splits are reproducible. */
typedef struct nnrt_rng {
  uint64_t s[4];
} nnrt_rng;

void nnrt_rng_seed(nnrt_rng *r, uint64_t seed);
uint64_t nnrt_rng_next_u64(nnrt_rng *r);
double nnrt_rng_uniform(nnrt_rng *r);                      /* [0, 1), 53 bits */
uint64_t nnrt_rng_below(nnrt_rng *r, uint64_t n);          /* [0, n), unbiased; n > 0 */
void nnrt_rng_shuffle(nnrt_rng *r, int64_t *a, int64_t n); /* Fisher-Yates */

/* Checks a model table: ABI version, batch, tensor order and sizes, and that
 * every parameter lies inside the flat buffer. Every other entry point that
 * takes a model calls it first. */
int nnrt_model_check(const nnrt_model *m, nnrt_error *err);
/* Counts of tensors with a role (NNRT_INPUT, ...) and the index of the
 * first one in m->tensors (-1 if none). */
int nnrt_model_count(const nnrt_model *m, int role, int *first);

/* ---- datasets ----------------------------------------------------------- */

#define NNRT_MAX_FIELDS 16

/* One column group of a dataset: the per-example tensor of one model input
 * or target, stored for all n examples back to back. */
typedef struct nnrt_field {
  int32_t dtype; /* NNRT_F32 or NNRT_I32 */
  int64_t size;  /* elements per example */
  void *data;    /* n * size elements */
} nnrt_field;

/* n examples; fields in the model table's order: inputs, then targets. */
typedef struct nnrt_dataset {
  int64_t n;
  int num_fields;
  nnrt_field fields[NNRT_MAX_FIELDS];
  int num_classes; /* class names: label index -> string (may be 0) */
  char **class_names;
  int num_features; /* names of field 0's elements (may be 0) */
  char **feature_names;
  char *label_name; /* header name of the CSV label column, or NULL;
                       worth saving so prediction input can skip it */
} nnrt_dataset;

int nnrt_dataset_alloc(nnrt_dataset *ds, int64_t n, int num_fields, const int32_t *dtypes,
                       const int64_t *sizes, nnrt_error *err);
/* Fields shaped like the model's inputs (and targets, if with_targets). */
int nnrt_dataset_alloc_for_model(nnrt_dataset *ds, const nnrt_model *m, int64_t n, int with_targets,
                                 nnrt_error *err);
void nnrt_dataset_free(nnrt_dataset *ds);
/* Copies names (NULL names pointer = clear). */
int nnrt_dataset_set_class_names(nnrt_dataset *ds, const char *const *names, int count,
                                 nnrt_error *err);
int nnrt_dataset_set_feature_names(nnrt_dataset *ds, const char *const *names, int count,
                                   nnrt_error *err);
/* out = the given rows of ds, in that order (names copied). */
int nnrt_dataset_subset(const nnrt_dataset *ds, const int64_t *rows, int64_t count,
                        nnrt_dataset *out, nnrt_error *err);
/* Checks that ds has a field for every model input (and target, if
 * with_targets), with matching dtype and size; extra fields are allowed. */
int nnrt_dataset_check(const nnrt_dataset *ds, const nnrt_model *m, int with_targets,
                       const char *what, nnrt_error *err);

/* ---- CSV ---------------------------------------------------------------- */

/* Training data: the first line is a header; every column except the label
 * column (label_column, or the last column when NULL) is a float feature
 * (field 0, size = number of features), written in decimal (hex, inf and
 * nan are refused). Labels (field 1, int32, size 1): when every label is an
 * integer, it is the class id itself (>= 0; no class names); otherwise the
 * labels are strings mapped to class indices in sorted (byte) order, like
 * sklearn's LabelEncoder, and their names recorded. Blank lines are
 * skipped, CRLF and "quoted" fields work. */
int nnrt_csv_load(const char *path, const char *label_column, nnrt_dataset *out, nnrt_error *err);

typedef struct nnrt_csv_options {
  const char *label_column; /* NULL: the last column */
  /* > 0: the model's class count (its logits' width). Integer labels must
   * be below it and string labels at most this many, else the error names
   * the line of the first label past it. */
  int64_t num_classes;
  /* num_targets > 0: regression. These columns, in this order, are field 1
   * (float32, size num_targets) instead of a label; label_column and
   * num_classes are not used. */
  const char *const *targets;
  int num_targets;
  /* With num_targets == 0: the label column (or the last) is one float
   * target instead of a class label. */
  int label_is_target;
} nnrt_csv_options;

/* nnrt_csv_load with options (opt may be NULL). */
int nnrt_csv_load_opts(const char *path, const nnrt_csv_options *opt, nnrt_dataset *out,
                       nnrt_error *err);

/* Prediction input: rows of features only (field 0). The header is optional
 * (a first line with any non-numeric field is a header). Reads `f` when it
 * is not NULL (then `path` only names it in messages, e.g. "<stdin>"),
 * else opens `path`. A column the header names `ignore_column` (may be
 * NULL) is skipped, so a training file can be given as it is. */
int nnrt_csv_load_features(const char *path, FILE *f, const char *ignore_column, nnrt_dataset *out,
                           nnrt_error *err);

/* nnrt_csv_load_features for a model of num_features features (> 0; 0 =
 * unknown): rows with one column more, e.g. a training row with its label,
 * are reported as such instead of being read as a header or as the wrong
 * width. */
int nnrt_csv_load_inputs(const char *path, FILE *f, const char *ignore_column, int64_t num_features,
                         nnrt_dataset *out, nnrt_error *err);

typedef struct nnrt_csv_input_options {
  /* The columns of the training file that are not features (its label, or
   * its float targets). A header that names all of them has them skipped,
   * so the training file can be given as it is; one that names only some is
   * an error (a renamed target column would otherwise be read as a
   * feature). Rows without a header are features only. */
  const char *const *skip_columns;
  int num_skip;
  /* > 0: the model's feature count; a header or rows of another width are
   * an error naming the file, the line and the expected columns. */
  int64_t num_features;
  /* The training file's feature names, in order, for those messages (may
   * be NULL). */
  const char *const *feature_names;
  int num_feature_names;
} nnrt_csv_input_options;

/* nnrt_csv_load_inputs with several columns to skip (opt may be NULL). */
int nnrt_csv_load_inputs_opts(const char *path, FILE *f, const nnrt_csv_input_options *opt,
                              nnrt_dataset *out, nnrt_error *err);

/* ---- splitting and scaling ---------------------------------------------- */

/* Seeded shuffle, then test = the first round(n * test_fraction) rows of the
 * permutation and train = the rest (as sklearn's train_test_split). */
int nnrt_split(const nnrt_dataset *ds, double test_fraction, uint64_t seed, nnrt_dataset *train,
               nnrt_dataset *test, nnrt_error *err);

/* No shuffle: test = the last round(n * test_fraction) rows, train = the
 * rows before them, both in order (the tail of a corpus, as for char-rnn).
 * For stride-1 windows the last `window` training examples overlap the
 * first test example's tokens. */
int nnrt_split_last(const nnrt_dataset *ds, double test_fraction, nnrt_dataset *train,
                    nnrt_dataset *test, nnrt_error *err);

/* Min-max scaler of one float field: x' = (x - min) / (max - min); a
 * constant feature is only shifted (scale 1). */
typedef struct nnrt_scaler {
  int64_t size;
  float *min;
  float *max;
} nnrt_scaler;

int nnrt_scaler_fit(nnrt_scaler *s, const nnrt_dataset *ds, int field, nnrt_error *err);
/* Restores a scaler from saved lists (e.g. checkpoint metadata). */
int nnrt_scaler_set(nnrt_scaler *s, const float *min, const float *max, int64_t size,
                    nnrt_error *err);
int nnrt_scaler_apply(const nnrt_scaler *s, nnrt_dataset *ds, int field, nnrt_error *err);
void nnrt_scaler_free(nnrt_scaler *s);

/* ---- JSON helpers (for checkpoint metadata values) ---------------------- */

/* Return malloc'd JSON text ("[0.25,1.5]", "[\"setosa\",...]"), NULL when
 * out of memory. Floats are written with enough digits to round-trip. */
char *nnrt_json_encode_floats(const float *v, int64_t n);
char *nnrt_json_encode_strings(const char *const *s, int n);
/* Parse a JSON list; *out is malloc'd (free strings with
 * nnrt_free_strings). */
int nnrt_json_decode_floats(const char *json, float **out, int64_t *n, nnrt_error *err);
int nnrt_json_decode_strings(const char *json, char ***out, int *n, nnrt_error *err);
void nnrt_free_strings(char **s, int n);

/* ---- training ----------------------------------------------------------- */

/* Learning-rate schedules: the rows of nnrt/nnrt_schedules.def. */
enum nnrt_schedule_kind {
#define NNRT_SCHEDULE_ARG(...)
#define NNRT_SCHEDULE(name, kind, ...) kind,
#include "nnrt/nnrt_schedules.def"
  NNRT_SCHEDULE_COUNT
};

typedef struct nnrt_schedule {
  int kind;         /* enum nnrt_schedule_kind; 0 (constant) by default */
  double every;     /* step: epochs between decays */
  double gamma;     /* step, exponential: the factor of each decay */
  double warmup;    /* cosine: steps of linear warmup */
  double min_lr;    /* cosine: the rate the run anneals to; plateau: the floor */
  double factor;    /* plateau: the factor of each reduction */
  double patience;  /* plateau: epochs without improvement that are tolerated */
  double threshold; /* plateau: the relative improvement that counts */
  double cooldown;  /* plateau: epochs after a reduction that are not counted */
} nnrt_schedule;

/* The row `name` with its defaults; non-zero (err set) for an unknown name. */
int nnrt_schedule_init(nnrt_schedule *s, const char *name, nnrt_error *err);
/* Sets argument `name` of s's row, checked against its range. */
int nnrt_schedule_set(nnrt_schedule *s, const char *name, double value, nnrt_error *err);
/* "name" or "name(arg = value, ...)", as a train block writes it. */
int nnrt_schedule_parse(nnrt_schedule *s, const char *spec, nnrt_error *err);
const char *nnrt_schedule_name(const nnrt_schedule *s);
/* The name of s's row's argument i (in the row's order), or NULL. */
const char *nnrt_schedule_arg(const nnrt_schedule *s, int i);
/* "constant, step, ..." for messages. */
const char *nnrt_schedule_names(void);

/* Which metric early stopping, the plateau schedule and "best" watch:
 * the losses fall, the accuracies rise. */
enum nnrt_monitor {
  NNRT_MONITOR_VAL_LOSS = 0,
  NNRT_MONITOR_LOSS = 1,
  NNRT_MONITOR_VAL_ACCURACY = 2,
  NNRT_MONITOR_ACCURACY = 3
};
/* The monitor named "val_loss", "loss", "val_accuracy" or "accuracy", or -1. */
int nnrt_monitor_parse(const char *name);
const char *nnrt_monitor_name(int monitor);

/* What training carries from epoch to epoch besides the parameters and the
 * optimizer state: the plateau schedule's rate and counters, and the
 * monitored metric's best. A checkpoint keeps it (nnc train --save), so
 * that --resume goes on exactly as the run would have. All-zero: fresh. */
typedef struct nnrt_fit_state {
  int started;           /* 0: fresh (nnrt_fit fills it in) */
  double lr;             /* plateau: the current rate */
  double plateau_best;   /* plateau: the best metric, as torch's scheduler keeps it */
  int64_t bad_epochs;    /* plateau: epochs since the last improvement */
  int64_t cooldown_left; /* plateau */
  double best;           /* the monitored metric's best so far */
  int64_t best_epoch;    /* its epoch (1-based; 0: none yet) */
  int64_t wait;          /* epochs since it improved (early stopping) */
} nnrt_fit_state;

/* The learning rate of 0-based training step `step` in 0-based epoch
 * `epoch` of a run of `total_steps` steps from base rate `lr`. */
double nnrt_schedule_lr(const nnrt_schedule *s, const nnrt_fit_state *st, double lr, int64_t epoch,
                        int64_t step, int64_t total_steps);

typedef struct nnrt_epoch_stats {
  int64_t epoch;                /* 1-based */
  int64_t step;                 /* global step after this epoch */
  float loss, accuracy;         /* accuracy is NaN unless cross-entropy */
  float val_loss, val_accuracy; /* NaN without validation data */
  double seconds;
  float lr;    /* the learning rate of the epoch's last step */
  int is_best; /* the monitored metric is the best of the run so far */
} nnrt_epoch_stats;

/* nnrt_fit's own use of the state, for a training loop of one's own (over
 * grad_step and apply_step): start fills in a fresh state (started == 0)
 * for base rate `lr`; after each epoch, epoch_end updates the best of the
 * monitored metric (setting stats->is_best), the plateau schedule's rate
 * (torch's ReduceLROnPlateau.step) and the early-stopping count, and
 * returns whether early stopping with `patience` (> 0) ends the run. */
void nnrt_fit_state_start(nnrt_fit_state *st, double lr, int monitor);
/* The state as text for a checkpoint's metadata (malloc'd; NULL when out
 * of memory), and back (non-zero, err set, when `text` is not one). */
char *nnrt_fit_state_encode(const nnrt_fit_state *st);
int nnrt_fit_state_decode(const char *text, nnrt_fit_state *st, nnrt_error *err);
int nnrt_fit_state_epoch_end(nnrt_fit_state *st, const nnrt_schedule *s, int monitor,
                             int64_t patience, nnrt_epoch_stats *stats);

typedef struct nnrt_fit_config {
  int64_t epochs;        /* train until this many epochs are done */
  int64_t initial_epoch; /* epochs already done (resume); 0 = fresh */
  int64_t start_step;    /* train_steps already done (resume) */
  float learning_rate;
  uint64_t seed; /* shuffle seed; epoch e's order depends only on
                    (seed, e), so a resumed run sees the same data */
  int shuffle;
  int verbose;             /* 0: quiet; 1: one line per epoch to `log`, and progress
                              while an epoch trains (a bar redrawn in place on a
                              terminal; elsewhere a plain line every progress_seconds) */
  double progress_seconds; /* 0: 10 s; negative: no progress lines */
  /* Whether `log` is a terminal: 0 asks isatty(); 1 yes; -1 no (mpirun
   * hands its ranks a terminal even when the job's output goes to a file). */
  int progress_tty;
  /* Called after each epoch (may be NULL); a non-zero return stops the
   * training early without error (e.g. to checkpoint, or early stopping). */
  int (*on_epoch)(void *user, const nnrt_epoch_stats *stats);
  void *user;
  /* Every step's loss must be finite (always checked: it costs nothing).
   * Non-zero: every parameter must be finite after every step too (a pass
   * over the parameters per step), which also catches a non-finite gradient
   * whose step still had a finite loss. */
  int check_numerics;
  /* Data-parallel training (world > 1; 0 or 1: one process). This process
   * is `rank` of `world`, each running nnrt_fit with the same model
   * (compiled for a world-th of the batch), data, seed and config. A step's
   * global batch is the next m->batch * world rows of the shared shuffle;
   * rank r takes rows r * m->batch.. of it, runs grad_step (its rows'
   * dropout masks keyed by their global position), `allreduce` sums the
   * buffers of all processes in place (n floats: the gradients, the loss
   * weight, the loss and accuracy sums), and every process makes the same
   * apply_step: the parameters stay identical on every rank, and match one
   * process training on the global batch, up to rounding. allreduce
   * returns non-zero when it fails (nnrt_fit then stops with an error). */
  int rank, world;
  int (*allreduce)(void *comm, float *buf, int64_t n);
  void *comm;
  /* > 0: every step's gradient is scaled down to this global L2 norm when
   * it is larger (torch.nn.utils.clip_grad_norm_), inside the compiled
   * step; 0: no clipping. */
  float clip_norm;
  nnrt_schedule schedule; /* all-zero: the constant learning_rate */
  /* The metric (enum nnrt_monitor) that the plateau schedule, early
   * stopping and nnrt_epoch_stats.is_best watch. A validation metric
   * without validation data is an error. */
  int monitor;
  /* > 0: Keras's EarlyStopping(patience): stop when the monitored metric
   * has not improved for this many epochs, and put back the parameters of
   * its best epoch (restore_best_weights). */
  int64_t early_stopping;
  /* In and out (may be NULL: fresh): the state a resumed run continues
   * from, and the state at the end, for the next checkpoint. */
  nnrt_fit_state *state;
} nnrt_fit_config;

/* nnrt_fit's return when a step's loss, or a parameter after a step
 * (check_numerics), was not finite: the message names the epoch, the step
 * and the first parameter that became non-finite; params and opt_state are
 * restored to the end of the last completed epoch (hist->count epochs,
 * hist->last_step), so they can be saved and training resumed from them. */
#define NNRT_FIT_NONFINITE 2

/* Per-epoch history; NaN where a value does not apply. */
typedef struct nnrt_history {
  int64_t count, capacity;
  float *loss, *accuracy, *val_loss, *val_accuracy;
  double *seconds;
  int64_t last_step; /* global step after the last epoch run */
  /* Data-parallel training: the all-reduces run and the seconds spent in
   * them (waiting for the slowest rank included). */
  int64_t allreduce_count;
  double allreduce_seconds;
} nnrt_history;

void nnrt_history_free(nnrt_history *h);

/* The training loop: per epoch, shuffle, gather m->batch rows per call into
 * staging buffers (the last partial batch padded with zero rows of weight
 * 0), call train_step, and report the example-weighted mean loss (and
 * accuracy for cross-entropy models: argmax of the first output against
 * the first target); then evaluate on val (may be NULL). hist (may be NULL)
 * gets one entry per epoch run; log (may be NULL) the Keras-like lines. */
int nnrt_fit(const nnrt_model *m, float *params, float *opt_state, const nnrt_dataset *train,
             const nnrt_dataset *val, const nnrt_fit_config *cfg, nnrt_history *hist, FILE *log,
             nnrt_error *err);

/* Weighted mean loss (and accuracy, NaN unless cross-entropy) of ds, in
 * padded batches through eval_step. loss and acc may be NULL. */
int nnrt_evaluate(const nnrt_model *m, const float *params, const nnrt_dataset *ds, float *loss,
                  float *acc, nnrt_error *err);

/* train_step calls per epoch for n examples. */
int64_t nnrt_steps_per_epoch(const nnrt_model *m, int64_t n);

/* ---- prediction --------------------------------------------------------- */

/* Runs predict over x (its fields must match the model inputs; targets may
 * be present and are ignored) in padded batches; out gets one F32 field
 * per model output with x->n rows (class names copied from x). */
int nnrt_predict(const nnrt_model *m, const float *params, const nnrt_dataset *x, nnrt_dataset *out,
                 nnrt_error *err);

/* One line per row of probs (n rows of k values):
 *   versicolor  (setosa 0.010, versicolor 0.930, virginica 0.060)
 * with the argmax class first; names may be NULL (then class indices). */
void nnrt_print_predictions(FILE *f, const float *probs, int64_t n, int64_t k,
                            const char *const *names, int num_names);

/* ---- checkpoints (safetensors) ------------------------------------------ */

typedef struct nnrt_metadata {
  int count;
  char **keys;
  char **values;
} nnrt_metadata;

/* Copies key and value; replaces an existing key. */
int nnrt_metadata_set(nnrt_metadata *md, const char *key, const char *value);
const char *nnrt_metadata_get(const nnrt_metadata *md, const char *key);
void nnrt_metadata_free(nnrt_metadata *md);

#define NNRT_OPT_STATE_TENSOR "__optimizer_state__"
/* The checkpoint's `__metadata__` keys, all of them (the vocabulary's are
 * with its functions below). The runtime reads the model's name; nnc train
 * writes the rest and nnc's other commands read them
 * (compiler/tools/nnc/Checkpoint.h: one save and one load of the schema);
 * an app may read them too (a value list is JSON: nnrt_json_decode_*). */
#define NNRT_META_MODEL "nnc.model"
#define NNRT_META_CLASSES "nnc.classes"                 /* JSON list of class names by id */
#define NNRT_META_SCALER_MIN "nnc.scaler_min"           /* JSON list, a value per feature */
#define NNRT_META_SCALER_MAX "nnc.scaler_max"           /* JSON list, a value per feature */
#define NNRT_META_LABELS "nnc.labels"                   /* "names" or "ids" (CSV classes) */
#define NNRT_META_LABEL_COLUMN "nnc.label_column"       /* the CSV column of the label */
#define NNRT_META_TARGET_COLUMNS "nnc.target_columns"   /* JSON list: targets = "..." */
#define NNRT_META_FEATURE_COLUMNS "nnc.feature_columns" /* JSON list, the CSV's features */
#define NNRT_META_STORY_LEN "nnc.story_len"             /* bAbI: the model's lengths */
#define NNRT_META_QUESTION_LEN "nnc.question_len"
#define NNRT_META_MASK_ID "nnc.mask_id" /* masked-token bAbI data's [mask] */
#define NNRT_META_STEP "nnc.step"       /* where --resume continues */
#define NNRT_META_EPOCHS "nnc.epochs"
#define NNRT_META_FIT_STATE "nnc.fit_state" /* nnrt_fit_state_encode's */

/* Writes every parameter as an F32 tensor named as in the model table, plus
 * opt_state (when not NULL) as "__optimizer_state__" [opt_state_size].
 * Metadata gets "nnc.model" = m->name and the caller's pairs (md may be
 * NULL). Atomic: written to "<path>.tmp.<pid>", synced, then renamed, so
 * an existing file at path is either untouched or fully replaced. A
 * symlink at path is written through (its target is replaced, the link
 * kept); a path that exists and is not a regular file (a directory, a
 * device such as /dev/full, a pipe) is an error. */
int nnrt_checkpoint_save(const char *path, const nnrt_model *m, const float *params,
                         const float *opt_state, const nnrt_metadata *md, nnrt_error *err);

/* Reads a checkpoint written for m: checks the model name (when the file
 * has one) and that the tensors are exactly the model's parameters, with
 * their shapes and dtype F32. params are only written when everything
 * checks out. opt_state (may be NULL) is restored when the file has one
 * of the right size, else zeroed; *opt_restored (may be NULL) says which.
 * md (may be NULL) receives the file's metadata. A NaN or Inf in a
 * parameter or the optimizer state is an error naming the first tensor
 * that has one (such weights come from a run that diverged). */
int nnrt_checkpoint_load(const char *path, const nnrt_model *m, float *params, float *opt_state,
                         int *opt_restored, nnrt_metadata *md, nnrt_error *err);

/* Transfer learning (nnc train --init): loads every parameter of m whose
 * name is a tensor of the checkpoint, from any model's checkpoint (a
 * pretrained encoder into a classifier). loaded[t] (m->num_tensors
 * entries) is 1 for the parameters read, 0 for those left as they were;
 * *unused (may be NULL) counts the checkpoint's tensors m does not have
 * (the optimizer state is never read). A parameter of the same name and
 * another shape or dtype, or with a NaN or Inf, is an error, and then
 * params is untouched. */
int nnrt_checkpoint_load_matching(const char *path, const nnrt_model *m, float *params, int *loaded,
                                  int *unused, nnrt_metadata *md, nnrt_error *err);

/* ---- text corpora and vocabularies ------------------------------------ */

/* Reads a whole UTF-8 text file into a malloc'd, NUL-terminated buffer.
 * Errors: a missing or unreadable file, an empty file, a NUL byte, invalid
 * UTF-8 (with the line and the byte offset of the bad byte). */
int nnrt_text_load(const char *path, char **text, size_t *len, nnrt_error *err);

/* Checks that s[0..len) is UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF) without NUL bytes. name (may be NULL) prefixes the
 * message: "name:LINE: invalid UTF-8 at byte OFFSET: why". */
int nnrt_utf8_check(const char *name, const char *s, size_t len, nnrt_error *err);

enum nnrt_token_kind {
  NNRT_TOKENS_CHARS = 1, /* one token per code point */
  NNRT_TOKENS_WORDS = 2, /* Keras Tokenizer words */
  NNRT_TOKENS_BABI = 3   /* words and punctuation, as Keras's babi_memnn */
};

/* Characters: the vocabulary is the distinct code points of the corpus,
 * sorted; id = index. Words, like Keras' Tokenizer with its defaults: the
 * text is lower-cased, every character of
 *     !"#$%&()*+,-./:;<=>?@[\]^_`{|}~ TAB NEWLINE
 * becomes a space (the apostrophe stays: "marshal's" is one word), and the
 * text is split on whitespace. Word ids are 1..V by descending count, ties
 * in order of first occurrence; id 0 is reserved (token "") and never
 * produced, so size = V + 1, as the course's vocabulary_size.
 * bAbI tokens, as Keras's babi_memnn example splits sentences (its
 * re.split(r'(\W+)', s), each piece stripped, empty pieces dropped), after
 * lower-casing as its Tokenizer does: runs of word characters (ASCII
 * letters, digits, '_', and any non-ASCII non-space character) and runs of
 * other characters without their surrounding whitespace, so "Is Mary in
 * the hall?" is is/mary/in/the/hall/?. Ids 1..V in sorted (byte) order,
 * id 0 reserved (padding), as the example's word_idx. */
typedef struct nnrt_vocab {
  int kind;        /* enum nnrt_token_kind; 0 = empty vocabulary */
  int32_t size;    /* number of ids (an output layer's width) */
  char **tokens;   /* id -> token (UTF-8) */
  int64_t *counts; /* id -> occurrences in the corpus it was built from
                      (zero for a vocabulary loaded from metadata) */
  int32_t *table;  /* open-addressing hash table token -> id (-1: empty) */
  uint32_t table_size;
} nnrt_vocab;

int nnrt_vocab_build(nnrt_vocab *v, int kind, const char *text, size_t len, nnrt_error *err);
void nnrt_vocab_free(nnrt_vocab *v);
/* A vocabulary from its tokens by id (tokens[0] = "" unless chars); takes
 * ownership of tokens (malloc'd strings in a malloc'd array) even when it
 * fails. Checks each token is one token of the kind, and no duplicates. */
int nnrt_vocab_from_tokens(nnrt_vocab *v, int kind, char **tokens, int n, nnrt_error *err);
/* Id of a token (len bytes), or -1. Words are looked up as given: they are
 * not lower-cased here. */
int32_t nnrt_vocab_id(const nnrt_vocab *v, const char *token, size_t len);

/* Text -> ids (malloc'd in *ids; *n may be 0, e.g. for "..." as words).
 * The text is normalised as when building (lower case, filters). Tokens
 * not in the vocabulary are an error naming every one of them:
 *   'ishmeal' is not in the vocabulary (did you train on this corpus?) */
int nnrt_vocab_encode(const nnrt_vocab *v, const char *text, size_t len, int32_t **ids, int64_t *n,
                      nnrt_error *err);
/* Ids -> malloc'd text: words joined by single spaces, characters
 * concatenated. An id out of range is an error. */
int nnrt_vocab_decode(const nnrt_vocab *v, const int32_t *ids, int64_t n, char **text,
                      nnrt_error *err);

#define NNRT_META_VOCAB "nnc.vocab"   /* JSON list of tokens by id */
#define NNRT_META_TOKENS "nnc.tokens" /* "words", "chars" or "babi" */

/* Stores / restores a vocabulary as checkpoint metadata strings. */
int nnrt_vocab_to_metadata(const nnrt_vocab *v, nnrt_metadata *md, nnrt_error *err);
int nnrt_vocab_from_metadata(nnrt_vocab *v, const nnrt_metadata *md, nnrt_error *err);

/* ---- datasets from token streams ---------------------------------------- */

/* Next-token windows, stride 1: n - window examples; example i has field 0
 * = ids[i .. i+window) (int32[window]) and field 1 = ids[i+window]
 * (int32[1]). Needs n >= window + 1. */
int nnrt_dataset_windows(nnrt_dataset *ds, const int32_t *ids, int64_t n, int64_t window,
                         nnrt_error *err);

/* char-rnn sequences: consecutive chunks of `length` tokens (stride
 * length), (n - 1) / length examples; field 0 = ids[k*length ..][length],
 * field 1 = the same shifted by one token. Needs n >= length + 1. */
int nnrt_dataset_sequences(nnrt_dataset *ds, const int32_t *ids, int64_t n, int64_t length,
                           nnrt_error *err);

/* ---- bAbI question answering ------------------------------------------- */

/* The questions of one file, token ids in a shared vocabulary. Example i:
 * story story_ids[story_start[i] ..][story_len[i]] (every sentence of its
 * bAbI story before the question, flattened), question
 * question_ids[question_start[i] ..][question_len[i]], answer id
 * answer[i], from line line[i] of path. */
typedef struct nnrt_babi_set {
  char *path;
  int64_t n;
  int64_t *story_start, *question_start, *line;
  int32_t *story_len, *question_len, *answer;
  int32_t *story_ids, *question_ids;
  int64_t num_story_ids, num_question_ids;
  int64_t max_story, max_question; /* longest story / question here */
} nnrt_babi_set;

/* Reads QA files, each in either format (a file whose first non-blank
 * character is '{' is JSON lines):
 *  - original bAbI (any of the 20 tasks): "ID text" lines, ID 1 starts a
 *    story, "ID question?<TAB>answer<TAB>supporting ids" asks a question
 *    about the story so far (the answer is one token, commas and all);
 *  - the course's JSON lines: {"story": [tokens], "question": [tokens],
 *    "answer": "yes"}.
 * Tokens are lower-cased. One vocabulary (kind NNRT_TOKENS_BABI) is built
 * over every story, question and answer of all the files, as Keras's
 * babi_memnn does over train and test; sets[i] gets file i's questions.
 * story_len and question_len (may be NULL) get the longest over all files.
 * Errors name file:line and what was expected. */
int nnrt_babi_load(const char *const *paths, int num_paths, nnrt_babi_set *sets, nnrt_vocab *vocab,
                   int64_t *story_len, int64_t *question_len, nnrt_error *err);
void nnrt_babi_set_free(nnrt_babi_set *s);

/* A dataset of the set's examples: field 0 = the story pre-padded with 0 to
 * story_len (int32), field 1 = the question pre-padded to question_len,
 * field 2 = the answer id (int32[1]), as Keras's pad_sequences. A story or
 * question longer than its length is an error naming its file:line. */
int nnrt_babi_dataset(const nnrt_babi_set *s, int64_t story_len, int64_t question_len,
                      nnrt_dataset *out, nnrt_error *err);

/* Masked-token data (BERT's pretraining task) over the same examples:
 * field 0 = the story pre-padded to story_len, field 1 = the question
 * pre-padded to question_len, field 2 = labels[story_len + question_len],
 * all -1 (nothing predicted) until nnrt_babi_mask draws the masks. The
 * answer is not used. */
int nnrt_babi_masked_dataset(const nnrt_babi_set *s, int64_t story_len, int64_t question_len,
                             nnrt_dataset *out, nnrt_error *err);

/* Draws the masked positions of every row of a masked-token dataset
 * afresh (undoing the previous draw first, so it can be called every
 * epoch): of the n non-padding positions of the row's [story; question],
 * max(1, round(rate * n)) chosen uniformly get their original id as label
 * (labels elsewhere are -1) and, as in BERT, become mask_id with
 * probability 0.8, a random id in [1, mask_id) with 0.1, and stay
 * themselves with 0.1. Padding (id 0) is never chosen. The draw depends
 * only on (seed, the rows in order). mask_id must be the largest id (the
 * one nnrt_vocab_append gives). */
int nnrt_babi_mask(nnrt_dataset *d, int32_t mask_id, double rate, uint64_t seed, nnrt_error *err);

/* Adds a token at the end of a vocabulary (id = the old size): the mask
 * token "[mask]" of masked-token training, which no text tokenizes to
 * (brackets and letters are separate bAbI tokens). Fails if the token is
 * already there. */
int nnrt_vocab_append(nnrt_vocab *v, const char *token, int32_t *id, nnrt_error *err);

/* Checks that m fits bAbI data: two int inputs of rank 1 (story, question)
 * and one int target with one element (the answer); gives their lengths. */
int nnrt_babi_check_model(const nnrt_model *m, int64_t *story_len, int64_t *question_len,
                          nnrt_error *err);
/* The same for masked-token data: the target is int[S + Q]. */
int nnrt_babi_check_masked_model(const nnrt_model *m, int64_t *story_len, int64_t *question_len,
                                 nnrt_error *err);

/* out[0..len) = ids[0..n) pre-padded with zeros; fails (returns 1, out
 * untouched) when n > len. */
int nnrt_pad_ids(const int32_t *ids, int64_t n, int64_t len, int32_t *out);

/* A bAbI model's answer to `question` about `story` (text, sentences
 * separated by newlines or spaces), as nnc chat gives it: both encoded
 * with the model's vocabulary (an unknown word is an error naming it),
 * padded to the model's lengths (a longer question keeps its last
 * tokens, as Keras's pad_sequences; a longer story is an error), and the
 * most probable word of the output (never id 0, padding). */
typedef struct nnrt_answer {
  int32_t id;
  float prob;
  const char *word; /* the vocabulary's */
  int64_t story_tokens, question_tokens;
  int question_cut; /* the question was longer than the model's */
} nnrt_answer;
int nnrt_babi_answer(const nnrt_model *m, const float *params, const nnrt_vocab *v,
                     const char *story, const char *question, nnrt_answer *a, nnrt_error *err);
/* Where the question starts in a line that ends with '?', as nnc chat
 * reads one: after the last '.', '!' or '?' before its end ("Mary went
 * home. Is Mary in the garden?": what comes before is more story); 0 when
 * the line is only a question. */
size_t nnrt_babi_question_start(const char *line);

/* ---- sampling and generation -------------------------------------------- */

/* How to pick the next token from a probability vector. Applied in order:
 * temperature (p^(1/T) renormalised, computed on log-probabilities), then
 * top_k, then top_p. Zero, negative and NaN probabilities count as zero. */
typedef struct nnrt_sampling {
  float temperature; /* 0: greedy (argmax, lowest id on ties); 1: as is */
  int64_t top_k;     /* keep the k most probable ids; 0: all */
  float top_p;       /* keep the fewest most probable ids whose mass
                        reaches top_p (nucleus); 0 or 1: all */
} nnrt_sampling;

/* Picks an id from probs[0..n) (s may be NULL: greedy). Draws one
 * nnrt_rng_uniform per non-greedy call, so a seed fixes the sequence. Fails
 * when no probability is positive, or the options are out of range. */
int nnrt_sample(const float *probs, int64_t n, const nnrt_sampling *s, nnrt_rng *rng, int32_t *id,
                nnrt_error *err);

/* Text generation through m->step: allocates zeroed state buffers for the
 * NNRT_STATE entries of m->step_tensors (step_batch rows each; row 0 is
 * used, the others are kept zero), encodes the prompt (it must have at
 * least one token), feeds every prompt token through step (one call per
 * token), then samples n_tokens ids from the first step output (the
 * probability vector, width v->size; a word vocabulary's reserved id 0 is
 * never picked), feeding each back in. A model with a step_context (a
 * key/value cache) that fills up starts again from zero states and the last
 * step_context / 2 ids. The decoded text, prompt first, is
 * written to out as it is produced (out may be NULL) and, when text is not
 * NULL, returned in *text (malloc'd). */
int nnrt_generate(const nnrt_model *m, const float *params, const nnrt_vocab *v, const char *prompt,
                  int64_t n_tokens, const nnrt_sampling *s, uint64_t seed, FILE *out, char **text,
                  nnrt_error *err);

/* The same, but every token runs m->predict again on the last window of
 * ids (the course's way, and the reference a step's cache must agree with):
 * a model that predicts every position ([T] ids -> [T, V]) gets the window
 * from its start, padded after; a window-to-next model ([T] -> [V]) gets
 * it pre-padded with id 0. Uses row 0 of a full batch. */
int nnrt_generate_recompute(const nnrt_model *m, const float *params, const nnrt_vocab *v,
                            const char *prompt, int64_t n_tokens, const nnrt_sampling *s,
                            uint64_t seed, FILE *out, char **text, nnrt_error *err);

/* ---- metrics ------------------------------------------------------------ */

/* Writes {"model":"Iris","epochs":150,"loss":0.05,...} atomically: the model
 * name, then the n key/value pairs in order; integral values print as
 * integers, NaN and infinities as null. */
int nnrt_write_metrics_json(const char *path, const char *model, int n, const char *const *keys,
                            const double *values, nnrt_error *err);
/* The same with the curves of a run after the model's name: "history":
 * {"epoch": [3, 4, ...], "loss": [...], "accuracy": [...], "val_loss":
 * [...], "val_accuracy": [...]}, h's epochs numbered from first_epoch
 * (NaN as null); the final values follow. */
int nnrt_write_metrics_history_json(const char *path, const char *model, int n,
                                    const char *const *keys, const double *values,
                                    const nnrt_history *h, int64_t first_epoch, nnrt_error *err);
/* Reads that history back (nnc plot): the model's name (malloc'd), the
 * curves into h (free with nnrt_history_free) and the first epoch. */
int nnrt_read_metrics_history(const char *path, char **model, nnrt_history *h, int64_t *first_epoch,
                              nnrt_error *err);

/* Atomic file write used by the above: tmp file, fsync, rename; symlinks
 * and non-regular files at path as for nnrt_checkpoint_save. */
int nnrt_write_file_atomic(const char *path, const void *data, size_t len, nnrt_error *err);

#ifdef __cplusplus
}
#endif

#endif /* NNRT_H */
