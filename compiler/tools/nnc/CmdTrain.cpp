// CmdTrain.cpp: nnc train: the train block, overridden by the flags; the
// data read before compiling; --init or --resume; the epochs with their
// callbacks; then --save and --metrics-out. Under `mpirun -np N`, N ranks
// train one model on shares of every batch (Distributed.h); rank 0 alone
// prints and writes files.
#include "Checkpoint.h"
#include "CsvData.h"
#include "Distributed.h"
#include "Driver.h"
#include "Plot.h"
#include "TrainData.h"

#include "nnc/Optimizers/Optimizers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>

namespace nnc::tool {

namespace {

std::string str(const dsl::TrainValue *v) { return v && v->string ? *v->string : ""; }

std::string dataArg(const dsl::TrainConfig &t, const char *key) {
  auto it = t.dataArgs.find(key);
  return it == t.dataArgs.end() ? "" : str(&it->second);
}

// A flag that overrides an integer of the train block.
bool intFlag(const Args &a, const char *flag, int64_t min, int64_t &dst, std::string &err) {
  if (!a.has(flag))
    return true;
  auto v = parseInt(flag, a.get(flag), min, err);
  if (v)
    dst = *v;
  return bool(v);
}

// The schedule, the monitor and early stopping: the train block's, then
// the flags'.
bool readControls(const Args &a, const dsl::TrainConfig &t, TrainSettings &s, std::string &err) {
  nnrt_error e{};
  bool ok = nnrt_schedule_init(&s.schedule, t.schedule.c_str(), &e) == 0;
  for (const auto &[key, value] : t.scheduleArgs)
    ok = ok && nnrt_schedule_set(&s.schedule, key.c_str(), value, &e) == 0;
  if (!ok) {
    err = e.msg; // the front end checked these: not expected
    return false;
  }
  if (a.has("schedule") && nnrt_schedule_parse(&s.schedule, a.get("schedule").c_str(), &e)) {
    err = std::string("--schedule: ") + e.msg;
    return false;
  }
  s.monitor = a.has("monitor") ? a.get("monitor") : t.monitor;
  if (!s.monitor.empty() && nnrt_monitor_parse(s.monitor.c_str()) < 0) {
    err = "--monitor expects val_loss, loss, val_accuracy or accuracy, got '" + s.monitor + "'";
    return false;
  }
  s.earlyStopping = t.earlyStopping;
  s.saveBest = a.has("save-best") ? a.get("save-best") : "";
  return intFlag(a, "early-stopping", 1, s.earlyStopping, err);
}

bool readSettings(const Args &a, const dsl::Graph &g, const CodeGenOptions &o, TrainSettings &s,
                  std::string &err) {
  const dsl::TrainConfig &t = g.train;
  s.dataPath = a.has("data") ? a.get("data") : t.dataPath;
  if (s.dataPath.empty()) {
    err = "no training data: give the model a train block with a data line, or pass --data PATH";
    return false;
  }
  s.epochs = t.present ? t.epochs : 1;
  if (!intFlag(a, "epochs", 1, s.epochs, err))
    return false;
  s.lr = float(optim::defaultLearningRate(o.optimizer.name));
  if (auto it = t.optimizerArgs.find("lr"); it != t.optimizerArgs.end() && it->second.number)
    s.lr = float(*it->second.number);
  if (a.has("lr")) {
    auto v = parseFloat("lr", a.get("lr"), err);
    if (!v)
      return false;
    s.lr = float(*v);
  }
  s.clipNorm = float(t.clipNorm);
  if (a.has("clip-norm")) {
    auto v = parseFloat("clip-norm", a.get("clip-norm"), err);
    if (!v) // parseFloat refuses 0, negatives, inf and nan
      return false;
    s.clipNorm = float(*v);
  }
  int64_t seed = int64_t(t.seed);
  if (!intFlag(a, "seed", 0, seed, err))
    return false;
  s.seed = uint64_t(seed);
  s.sampleEvery = t.sampleEvery;
  if (!intFlag(a, "sample-every", 0, s.sampleEvery, err))
    return false;
  s.quiet = a.has("quiet");
  s.text = t.dataKind == "text";
  s.babi = t.dataKind == "babi";
  s.masked = s.babi && dataArg(t, "task") == "masked";
  s.testPath = s.babi ? dataArg(t, "test") : "";
  s.label = dataArg(t, "label");
  return readControls(a, t, s, err);
}

// ---- callbacks ----

struct SampleContext {
  const nnrt_model *m;
  const float *params;
  const nnrt_vocab *vocab;
  std::string prompt;
  int64_t every, length;
};

// Keras's text-generation callback: a sample of what the model writes.
int sampleOnEpoch(void *user, const nnrt_epoch_stats *st) {
  auto *c = static_cast<SampleContext *>(user);
  if (c->every <= 0 || st->epoch % c->every != 0 || !c->m->step)
    return 0;
  nnrt_error e{};
  nnrt_sampling greedy{};
  std::printf("--- sample after epoch %lld (greedy) ---\n", (long long)st->epoch);
  if (nnrt_generate(c->m, c->params, c->vocab, c->prompt.c_str(), c->length, &greedy, 0, stdout,
                    nullptr, &e))
    std::printf("(no sample: %s)", e.msg);
  std::printf("\n---\n");
  std::fflush(stdout);
  return 0;
}

// Masked-token data draws new masks every epoch, so that the model does not
// learn one fixed set of blanks; the draw for epoch e depends only on (seed,
// e), so a resumed run sees the masks it would have seen.
constexpr double kMaskRate = 0.15; // BERT's
uint64_t maskSeed(uint64_t seed, int64_t epoch) {
  return seed * 0x9e3779b97f4a7c15ULL + uint64_t(epoch) * 0xbf58476d1ce4e5b9ULL + 1;
}

struct MaskContext {
  nnrt_dataset *fit;
  int32_t maskId;
  uint64_t seed;
};

int remaskOnEpoch(void *user, const nnrt_epoch_stats *st) {
  auto *c = static_cast<MaskContext *>(user);
  nnrt_error e{};
  if (nnrt_babi_mask(c->fit, c->maskId, kMaskRate, maskSeed(c->seed, st->epoch), &e)) {
    fail(e.msg);
    return 1;
  }
  return 0;
}

// Validation and test masks are drawn once (fixed seeds), so that their
// losses compare across epochs; the training masks change every epoch.
bool drawMasks(const TrainSettings &s, TrainData &d, int64_t initialEpoch, nnrt_error &e) {
  return !(
      nnrt_babi_mask(&d.fit, d.maskId, kMaskRate, maskSeed(s.seed, initialEpoch), &e) ||
      (d.val.n > 0 && nnrt_babi_mask(&d.val, d.maskId, kMaskRate, maskSeed(s.seed + 1, -1), &e)) ||
      (d.test.n > 0 && nnrt_babi_mask(&d.test, d.maskId, kMaskRate, maskSeed(s.seed + 2, -1), &e)));
}

// Every callback of the epochs, in order; `failed` when one of them
// stopped the run with an error.
struct EpochHooks {
  MaskContext *mask = nullptr;
  SampleContext *sample = nullptr;
  std::function<bool(const nnrt_epoch_stats &)> onBest; // --save-best
  bool failed = false;
};

int onEpoch(void *user, const nnrt_epoch_stats *st) {
  auto *h = static_cast<EpochHooks *>(user);
  if (h->mask && remaskOnEpoch(h->mask, st))
    return int(h->failed = true);
  if (h->sample)
    sampleOnEpoch(h->sample, st);
  if (h->onBest && st->is_best && !h->onBest(*st))
    return int(h->failed = true);
  return 0;
}

// ---- where the parameters start ----

// nnc train --init CKPT: the parameters of CKPT whose names the model has
// (a pretrained encoder under the classifier's same layer names), the rest
// as init() made them. Says which is which, so that a renamed layer that
// silently starts fresh is seen.
bool initFrom(const std::string &path, const nnrt_model *m, float *params, bool quiet) {
  std::vector<int> loaded(size_t(m->num_tensors) + 1, 0);
  int unused = 0;
  nnrt_error e{};
  if (nnrt_checkpoint_load_matching(path.c_str(), m, params, loaded.data(), &unused, nullptr, &e)) {
    fail(std::string(e.msg) + " (--init)");
    return false;
  }
  std::string got, fresh;
  int nGot = 0, nFresh = 0;
  for (int t = 0; t < m->num_tensors; ++t) {
    if (m->tensors[t].role != NNRT_PARAM)
      continue;
    std::string &list = loaded[size_t(t)] ? got : fresh;
    list += (list.empty() ? "" : ", ") + std::string(m->tensors[t].name);
    ++(loaded[size_t(t)] ? nGot : nFresh);
  }
  if (nGot == 0) {
    fail("--init " + path + ": no parameter of model '" + m->name +
         "' is in the checkpoint (parameters are matched by name, e.g. 'enc.block_1.attn.Wq')");
    return false;
  }
  if (!quiet) {
    std::printf("init from %s: %d parameters loaded: %s\n", path.c_str(), nGot, got.c_str());
    std::printf("init: %d parameters start fresh: %s\n", nFresh, nFresh ? fresh.c_str() : "(none)");
    if (unused)
      std::printf("init: %d tensors of the checkpoint are not in the model (not used)\n", unused);
  }
  return true;
}

// --resume CKPT: the parameters, the optimizer state and the position in
// the schedule (epoch, step): the run continues as if it had not stopped.
bool resumeFrom(const std::string &path, const nnrt_model *m, float *params, float *state,
                int64_t epochs, nnrt_fit_config &cfg, nnrt_fit_state &fitState) {
  nnrt_error e{};
  nnrt_metadata md{};
  TrainingMeta meta;
  int restored = 0;
  bool ok = nnrt_checkpoint_load(path.c_str(), m, params, state, &restored, &md, &e) == 0 &&
            checkResumeMetadata(md, path, e) && loadTrainingMeta(md, meta, e);
  nnrt_metadata_free(&md);
  if (!ok) {
    fail(e.msg);
    return false;
  }
  cfg.initial_epoch = meta.epochs;
  cfg.start_step = meta.step;
  if (meta.fitState)
    fitState = *meta.fitState;
  if (!restored)
    std::fprintf(stderr, "nnc: warning: %s has no optimizer state; it starts from zero\n",
                 path.c_str());
  if (cfg.initial_epoch >= epochs) {
    fail(path + " already has " + std::to_string(cfg.initial_epoch) +
         " epochs: ask for more with --epochs");
    return false;
  }
  return true;
}

// ---- after training ----

bool save(const std::string &path, const dsl::Graph &g, const nnrt_model *m, const float *params,
          const float *state, const TrainSettings &s, const TrainData &d, int64_t step,
          int64_t epochs, const nnrt_fit_state &fitState, nnrt_error &e) {
  TrainingMeta meta;
  meta.fitState = fitState;
  for (int i = 0; i < d.all.num_classes; ++i)
    meta.classes.push_back(d.all.class_names[i]);
  meta.scaled = d.scaled;
  if (d.scaled) {
    meta.scalerMin.assign(d.scaler.min, d.scaler.min + d.scaler.size);
    meta.scalerMax.assign(d.scaler.max, d.scaler.max + d.scaler.size);
  }
  if (s.text || s.babi)
    meta.vocab = &d.vocab;
  if (s.babi) {
    meta.storyLen = d.storyLen;
    meta.questionLen = d.questionLen;
    if (s.masked)
      meta.maskId = d.maskId;
  }
  meta.labelColumn = !s.label.empty() ? s.label : d.all.label_name ? d.all.label_name : "";
  if (!s.text && !s.babi) {
    meta.targetColumns = csvTargetColumns(g);
    meta.featureColumns.assign(d.all.feature_names, d.all.feature_names + d.all.num_features);
  }
  meta.labels = labelKind(g, d.all);
  meta.step = step;
  meta.epochs = epochs;
  nnrt_metadata md{};
  bool ok = saveTrainingMeta(meta, md, e) &&
            nnrt_checkpoint_save(path.c_str(), m, params, state, &md, &e) == 0;
  nnrt_metadata_free(&md);
  return ok;
}

struct Results {
  float testLoss = NAN, testAcc = NAN;
  double trainSeconds = 0, compileSeconds = 0;
};

bool writeMetrics(const std::string &path, const nnrt_model *m, const nnrt_history &hist,
                  int64_t epochs, const Results &r, nnrt_error &e) {
  int64_t last = hist.count - 1;
  const char *keys[] = {"epochs",          "loss",      "accuracy",      "val_loss",
                        "val_accuracy",    "test_loss", "test_accuracy", "train_seconds",
                        "compile_seconds", "parameters"};
  double vals[] = {double(epochs),
                   last >= 0 ? hist.loss[last] : NAN,
                   last >= 0 ? hist.accuracy[last] : NAN,
                   last >= 0 ? hist.val_loss[last] : NAN,
                   last >= 0 ? hist.val_accuracy[last] : NAN,
                   r.testLoss,
                   r.testAcc,
                   r.trainSeconds,
                   r.compileSeconds,
                   double(m->num_params)};
  return nnrt_write_metrics_history_json(path.c_str(), m->name, 10, keys, vals, &hist,
                                         epochs - hist.count + 1, &e) == 0;
}

// The monitored metric: --monitor or the train block's, else val_loss with
// validation data and loss without. --save-best needs its values (nnrt_fit
// checks what early stopping and the plateau schedule watch).
bool chooseMonitor(const TrainSettings &s, const nnrt_model *m, bool hasVal, nnrt_fit_config &cfg) {
  cfg.monitor = s.monitor.empty() ? (hasVal ? NNRT_MONITOR_VAL_LOSS : NNRT_MONITOR_LOSS)
                                  : nnrt_monitor_parse(s.monitor.c_str());
  if (s.saveBest.empty())
    return true;
  if (!hasVal && s.monitor.rfind("val_", 0) == 0)
    return !fail("--save-best watches " + s.monitor +
                 ", which needs validation data (validation_split or validation_data test)");
  if (s.monitor.find("accuracy") != std::string::npos && m->loss != NNRT_LOSS_CROSS_ENTROPY)
    return !fail("--save-best watches " + s.monitor +
                 ", but the model has no accuracy (it is not a classifier)");
  return true;
}

// The epochs, then the test set. Returns the exit status; `nonFinite` when a
// step went non-finite (the last good epoch's parameters are still saved);
// `onBest` (may be empty) runs after each epoch whose monitored metric is the
// best so far (--save-best).
int fitAndTest(const dsl::Graph &g, const nnrt_model *m, const Args &a, const TrainSettings &s,
               TrainData &d, Floats &params, Floats &state, nnrt_fit_config &cfg,
               nnrt_history &hist, Results &r, bool &nonFinite,
               std::function<bool(const nnrt_epoch_stats &)> onBest) {
  const dsl::TrainConfig &t = g.train;
  nnrt_error e{};
  // validation_data test: the test set is checked after every epoch too (the
  // course reads its accuracy there); the final test is the same figure.
  const nnrt_dataset *valSet = t.validateOnTest ? &d.test : &d.val;
  if (t.validateOnTest && d.test.n == 0)
    return fail("validation_data test: the data has no test rows");
  if (!s.quiet)
    std::printf("Model %s: %lld parameters, compiled in %.0f ms; %lld training "
                "rows, %s validation, %lld test%s\n",
                m->name, (long long)m->num_params, r.compileSeconds * 1e3, (long long)d.fit.n,
                t.validateOnTest ? "test set as" : std::to_string(d.val.n).c_str(),
                (long long)d.test.n, describeTrainData(s, d).c_str());
  if (!chooseMonitor(s, m, valSet->n > 0, cfg))
    return 1;
  EpochHooks hooks;
  hooks.onBest = std::move(onBest);
  MaskContext maskCtx{&d.fit, d.maskId, s.seed};
  if (s.masked) {
    if (!drawMasks(s, d, cfg.initial_epoch, e))
      return fail(e.msg);
    hooks.mask = &maskCtx;
  }
  SampleContext sample{m, params.data(), &d.vocab, d.prompt, s.sampleEvery, t.sampleLength};
  if (s.text && s.sampleEvery > 0 && m->step && !s.quiet)
    hooks.sample = &sample;
  cfg.on_epoch = onEpoch;
  cfg.user = &hooks;
  double f0 = nnrt_now_seconds();
  cfg.check_numerics = a.has("check-numerics");
  int fitRc = nnrt_fit(m, params.data(), state.data(), &d.fit, valSet->n > 0 ? valSet : nullptr,
                       &cfg, &hist, s.quiet ? nullptr : stdout, &e);
  // A step that went non-finite stops the run with an error, but the
  // parameters of the last good epoch are still saved (--save), so the run
  // can go on from there (--resume, with a lower learning rate).
  nonFinite = fitRc == NNRT_FIT_NONFINITE;
  if (fitRc && !nonFinite)
    return fail(e.msg);
  if (hooks.failed)
    return 1; // the hook said why
  if (nonFinite)
    std::cerr << "nnc: error: " << e.msg << "\n";
  r.trainSeconds = nnrt_now_seconds() - f0;
  if (d.test.n > 0 && !nonFinite) {
    if (nnrt_evaluate(m, params.data(), &d.test, &r.testLoss, &r.testAcc, &e))
      return fail(e.msg);
    // A regression (mse) has no accuracy: its line ends with the loss.
    if (std::isnan(r.testAcc))
      std::printf("test_loss: %.4f\n", r.testLoss);
    else
      std::printf("test_loss: %.4f - test_accuracy: %.4f\n", r.testLoss, r.testAcc);
  }
  if (!nonFinite)
    std::printf("trained %lld epochs in %.3f s\n", (long long)hist.count, r.trainSeconds);
  return 0;
}

// The train block's batch is the global batch: each of the world's ranks
// runs a model compiled for its share.
bool splitBatch(const World &w, CodeGenOptions &o, std::string &err) {
  if (!w.parallel())
    return true;
  if (o.batch % w.size != 0) {
    err = "batch " + std::to_string(o.batch) + " does not split evenly across " +
          std::to_string(w.size) + " processes: give --batch a multiple of " +
          std::to_string(w.size);
    return false;
  }
  o.batch /= w.size;
  return true;
}

// The ranks compile one after the other's cache: rank 0 first, then the
// others load what it wrote (the same model, options and nnc).
std::optional<Compiled> compileOnRanks(const World &w, const dsl::Graph &g,
                                       const CodeGenOptions &o) {
  std::optional<Compiled> c;
  if (w.leader())
    c = compileAndLoad(g, o);
  if (w.leader() && !c)
    return c;
  barrier(w);
  if (!w.leader())
    c = compileAndLoad(g, o);
  return c;
}

int train(const Args &a, const World &w) {
  auto g = loadGraph(a, /*withStep=*/true);
  if (!g)
    return 1;
  std::string err;
  auto o = codegenOptions(a, *g, err);
  TrainSettings s;
  if (!o || !readSettings(a, *g, *o, s, err) || !splitBatch(w, *o, err))
    return fail(err);
  s.quiet = s.quiet || !w.leader();

  // Data first: a missing file should not wait for the compiler.
  nnrt_error e{};
  TrainData d;
  if (!loadTrainData(*g, s, d, e))
    return fail(e.msg);
  // A QA model's scans read a whole story: it generates nothing, so no step.
  o->stepGraph = s.babi ? nullptr : g->step.get();
  Results r;
  double t0 = nnrt_now_seconds();
  auto c = compileOnRanks(w, *g, *o);
  if (!c)
    return 1;
  r.compileSeconds = nnrt_now_seconds() - t0;
  const nnrt_model *m = c->m;
  if (!prepareTrainData(*g, m, s, d, e))
    return fail(e.msg);

  Floats params(m->num_params), state(m->opt_state_size);
  m->init(params.data(), int64_t(s.seed));
  if (a.has("init") && a.has("resume"))
    return fail("--init starts a new run from another model's parameters and --resume "
                "continues a run: give one of them");
  if (a.has("init") && !initFrom(a.get("init"), m, params.data(), s.quiet))
    return 1;
  nnrt_fit_config cfg{};
  cfg.epochs = s.epochs;
  cfg.learning_rate = s.lr;
  cfg.clip_norm = s.clipNorm;
  cfg.schedule = s.schedule;
  cfg.early_stopping = s.earlyStopping;
  nnrt_fit_state fitState{};
  cfg.state = &fitState;
  cfg.seed = s.seed;
  cfg.shuffle = 1;
  cfg.verbose = s.quiet ? 0 : 1;
  if (w.parallel()) {
    cfg.rank = w.rank;
    cfg.world = w.size;
    cfg.allreduce = allreduceSum;
    // mpirun gives rank 0 a terminal whether or not its own output is one:
    // plain progress lines, which read well in both.
    cfg.progress_tty = -1;
  }
  if (a.has("resume") &&
      !resumeFrom(a.get("resume"), m, params.data(), state.data(), s.epochs, cfg, fitState))
    return 1;

  nnrt_history hist{};
  bool nonFinite = false;
  // --save-best: the checkpoint of each epoch that is the best so far.
  auto saveBest = [&](const nnrt_epoch_stats &st) {
    nnrt_error be{};
    if (save(s.saveBest, *g, m, params.data(), state.data(), s, d, st.step, st.epoch, fitState, be))
      return true;
    fail(std::string(be.msg) + " (--save-best)");
    return false;
  };
  std::function<bool(const nnrt_epoch_stats &)> onBest;
  if (!s.saveBest.empty() && w.leader())
    onBest = saveBest;
  if (int rc = fitAndTest(*g, m, a, s, d, params, state, cfg, hist, r, nonFinite, onBest)) {
    nnrt_history_free(&hist);
    return rc;
  }
  int64_t epochsDone = cfg.initial_epoch + hist.count;
  if (w.parallel()) {
    if (!sameOnEveryRank(w, params.data(), m->num_params))
      return fail("the ranks' parameters differ after training");
    if (!s.quiet && hist.allreduce_count > 0)
      std::printf("data-parallel: %d processes, %lld rows each per step; all-reduce of %lld "
                  "floats: %.3f ms per step (%.1f%% of the training time); the parameters are "
                  "identical on every rank\n",
                  w.size, (long long)m->batch, (long long)m->num_params + 4,
                  hist.allreduce_seconds * 1e3 / double(hist.allreduce_count),
                  100.0 * hist.allreduce_seconds / std::max(r.trainSeconds, 1e-9));
  }
  bool ok = true;
  if (!w.leader()) {
    nnrt_history_free(&hist);
    return nonFinite ? 1 : 0;
  }
  if (a.has("save")) {
    ok = save(a.get("save"), *g, m, params.data(), state.data(), s, d, hist.last_step, epochsDone,
              fitState, e);
    if (!ok)
      fail(e.msg);
    else if (nonFinite)
      std::cerr << "nnc: saved the parameters of epoch " << epochsDone << " to " << a.get("save")
                << " (continue with --resume)\n";
    else if (!s.quiet)
      std::printf("saved %s\n", a.get("save").c_str());
  }
  if (ok && a.has("metrics-out") && !writeMetrics(a.get("metrics-out"), m, hist, epochsDone, r, e))
    ok = !fail(e.msg);
  if (ok && a.has("plot") && hist.count > 0) {
    std::string svg = curvesSvg(m->name, hist, epochsDone - hist.count + 1);
    if (nnrt_write_file_atomic(a.get("plot").c_str(), svg.data(), svg.size(), &e))
      ok = !fail(e.msg);
  }
  nnrt_history_free(&hist);
  return ok && !nonFinite ? 0 : 1;
}

} // namespace

int cmdTrain(const Args &a) {
  World w = joinWorld();
  // Rank 0 speaks for the job; the others' errors still reach stderr.
  if (!w.leader() && !std::freopen("/dev/null", "w", stdout))
    return fail("cannot silence rank " + std::to_string(w.rank) + "'s output");
  int rc = train(a, w);
  if (rc && w.parallel())
    abortWorld(w, rc);
  leaveWorld(w);
  return rc;
}

} // namespace nnc::tool
