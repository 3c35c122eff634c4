// CheckTrain.cpp: train blocks: data sources, the optimizer and the
// training settings.
#include "Checker.h"

#include "nnc/Optimizers/Optimizers.h"
#include "nnrt/nnrt.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace nnc::dsl::detail {

// `g`: the model the train block belongs to (null for another model's).
TrainConfig Checker::checkTrain(const TrainDecl &t, const Graph *g) {
  TrainConfig cfg;
  cfg.present = true;
  cfg.loc = t.loc;
  std::set<std::string> seen;
  Scope empty;
  Loc sampleLoc;
  std::string sampleKey;
  for (const TrainSetting &s : t.settings) {
    if (seen.count(s.key)) {
      diag_.error(s.loc, fmt::format("train setting '{}' is given twice", s.key));
      continue;
    }
    seen.insert(s.key);
    const Expr &v = *s.value;
    if (s.key == "data") {
      checkData(v, cfg, g);
    } else if (s.key == "optimizer") {
      checkOptimizer(v, cfg);
    } else if (s.key == "batch" || s.key == "epochs") {
      auto n = positiveInt(v, s.key);
      if (n)
        (s.key == "batch" ? cfg.batch : cfg.epochs) = *n;
    } else if (s.key == "sample_every" || s.key == "sample_length") {
      auto n = positiveInt(v, s.key);
      if (n)
        (s.key == "sample_every" ? cfg.sampleEvery : cfg.sampleLength) = *n;
      sampleLoc = s.loc;
      sampleKey = s.key;
    } else if (s.key == "seed") {
      auto n = number(v, s.key);
      if (n && (n->kind != Value::Int || n->i < 0))
        diag_.error(v.loc, fmt::format("seed must be a non-negative integer, got {}", text(v)));
      else if (n)
        cfg.seed = uint64_t(n->i);
    } else if (s.key == "test_split" || s.key == "validation_split") {
      auto n = number(v, s.key);
      if (n && (n->f < 0 || n->f >= 1))
        diag_.error(v.loc, fmt::format("{} must be in [0, 1), got {}", s.key, text(v)));
      else if (n)
        (s.key == "test_split" ? cfg.testSplit : cfg.validationSplit) = n->f;
    } else if (s.key == "validation_data") {
      if (v.kind == ExprKind::Name && v.text == "test") {
        cfg.validateOnTest = true;
        cfg.validationDataLoc = s.loc;
      } else {
        diag_.error(v.loc, fmt::format("validation_data must be 'test' (the test set, checked "
                                       "after every epoch as Keras's validation_data), got '{}'",
                                       text(v)));
      }
    } else if (s.key == "scale") {
      if (v.kind == ExprKind::Name && (v.text == "minmax" || v.text == "none"))
        cfg.scale = v.text == "minmax";
      else
        diag_.error(v.loc,
                    fmt::format("unknown scaling '{}'; expected 'minmax' or 'none'", text(v)));
    } else if (s.key == "clip_norm") {
      auto n = number(v, s.key);
      if (n && !(n->f > 0))
        diag_.error(v.loc, fmt::format("clip_norm must be a positive number (the largest "
                                       "global norm of a step's gradient), got {}",
                                       text(v)));
      else if (n)
        cfg.clipNorm = n->f;
    } else if (s.key == "schedule") {
      checkSchedule(v, cfg);
    } else if (s.key == "monitor") {
      if (v.kind == ExprKind::Name && nnrt_monitor_parse(v.text.c_str()) >= 0)
        cfg.monitor = v.text;
      else
        diag_.error(v.loc, fmt::format("unknown monitor '{}'; expected val_loss, loss, "
                                       "val_accuracy or accuracy",
                                       text(v)));
    } else if (s.key == "early_stopping") {
      if (auto n = positiveInt(v, "early_stopping (the patience in epochs)"))
        cfg.earlyStopping = *n;
    } else {
      const std::vector<std::string> keys = {
          "data",       "optimizer",        "batch",           "epochs",
          "test_split", "validation_split", "validation_data", "seed",
          "scale",      "sample_every",     "sample_length",   "clip_norm",
          "schedule",   "monitor",          "early_stopping"};
      diag_.error(s.loc, fmt::format("unknown train setting '{}'; expected one of {}{}", s.key,
                                     optim::joinNames(keys, ", ", ", "), suggest(s.key, keys)));
    }
  }
  checkMonitor(t, cfg);
  if (cfg.dataArgs.count("test") && seen.count("test_split"))
    diag_.error(cfg.dataArgs["test"].loc,
                "babi data with a test file is tested on that file: remove "
                "test_split, or the test file");
  if (cfg.validateOnTest && cfg.validationSplit > 0)
    diag_.error(cfg.validationDataLoc, "validation_data test and validation_split both choose "
                                       "the validation rows: remove one of them");
  else if (cfg.validateOnTest && !cfg.dataArgs.count("test") && cfg.testSplit <= 0)
    diag_.error(cfg.validationDataLoc,
                "validation_data test needs a test set: set test_split, or give babi data a "
                "test file (babi(\"train\", test = \"test\"))");
  if (!sampleKey.empty() && cfg.dataKind != "text" && !cfg.dataKind.empty())
    diag_.error(sampleLoc, fmt::format("{} generates text, so it needs text data, as in "
                                       "'data text(\"corpus.txt\", tokens = words, window = 25)'",
                                       sampleKey));
  return cfg;
}

std::optional<Value> Checker::number(const Expr &e, const std::string &what) {
  Scope empty;
  if (e.kind == ExprKind::Name) {
    diag_.error(e.loc, fmt::format("{} must be a number, got '{}'", what, e.text));
    return std::nullopt;
  }
  Value v = eval(e, empty);
  if (v.kind == Value::Error)
    return std::nullopt;
  if (!v.isNumber()) {
    diag_.error(e.loc, fmt::format("{} must be a number, got {}", what, describe(v)));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> Checker::positiveInt(const Expr &e, const std::string &what) {
  auto v = number(e, what);
  if (!v)
    return std::nullopt;
  if (v->kind != Value::Int || v->i <= 0) {
    diag_.error(e.loc, fmt::format("{} must be a positive integer, got {}", what, text(e)));
    return std::nullopt;
  }
  return v->i;
}

std::optional<TrainValue> Checker::trainValue(const Expr &e) {
  TrainValue tv;
  tv.loc = e.loc;
  if (e.kind == ExprKind::String) {
    tv.string = e.text;
    return tv;
  }
  if (e.kind == ExprKind::Name) {
    tv.string = e.text;
    return tv;
  }
  Scope empty;
  Value v = eval(e, empty);
  if (v.kind == Value::Error)
    return std::nullopt;
  if (!v.isNumber()) {
    diag_.error(e.loc, fmt::format("expected a number, a string or a name, got '{}'", text(e)));
    return std::nullopt;
  }
  tv.number = v.f;
  return tv;
}

void Checker::checkData(const Expr &e, TrainConfig &cfg, const Graph *g) {
  if (e.kind != ExprKind::Call || !e.lhs || e.lhs->kind != ExprKind::Name) {
    diag_.error(e.loc,
                "expected a data source such as 'csv(\"data/iris.csv\", label = \"species\")'");
    return;
  }
  const std::string &kind = e.lhs->text;
  if (kind != "csv" && kind != "text" && kind != "babi") {
    diag_.error(e.lhs->loc,
                fmt::format("unknown data source '{}'; expected csv(...), text(...) or babi(...){}",
                            kind, suggest(kind, {"csv", "text", "babi"})));
    return;
  }
  cfg.dataKind = kind;
  cfg.dataLoc = e.loc;
  bool havePath = false;
  for (const Arg &a : e.args) {
    if (a.name.empty()) {
      if (havePath || a.value->kind != ExprKind::String) {
        diag_.error(
            a.value->loc,
            havePath ? fmt::format("{}(...) takes one path; name the other arguments, as in 'label "
                                   "= \"species\"'",
                                   kind)
                     : fmt::format(
                           "expected the data file path as a string, as in {}(\"data/file.csv\")",
                           kind));
        continue;
      }
      havePath = true;
      const std::string &p = a.value->text;
      fs::path fp(p);
      if (fp.is_absolute())
        cfg.dataPath = p;
      else
        cfg.dataPath = (fs::path(prog_.mainFile).parent_path() / fp).lexically_normal().string();
      continue;
    }
    if (cfg.dataArgs.count(a.name)) {
      diag_.error(a.nameLoc, fmt::format("argument '{}' of {} is given twice", a.name, kind));
      continue;
    }
    if (kind == "text" && !checkTextOption(a))
      continue;
    if (kind == "babi" && !checkBabiOption(a, cfg))
      continue;
    auto tv = trainValue(*a.value);
    if (tv)
      cfg.dataArgs[a.name] = *tv;
  }
  if (!havePath)
    diag_.error(e.loc,
                fmt::format("{}(...) needs the path of the data file, as in {}(\"data/file.csv\")",
                            kind, kind));
  if (kind == "text")
    finishTextData(e, cfg, g);
  if (kind == "babi")
    finishBabiData(e, cfg, g);
}

// babi("train.txt", test = "test.txt", task = answer|masked): the test
// file is resolved like the data path (relative to the .nn file); task
// masked is BERT's masked-token pretraining on the same examples.
bool Checker::checkBabiOption(const Arg &a, TrainConfig &cfg) {
  const Expr &v = *a.value;
  if (a.name == "task") {
    if (v.kind == ExprKind::Name && (v.text == "answer" || v.text == "masked"))
      return true;
    diag_.error(v.loc,
                fmt::format("task of babi data must be answer (predict the answer) or masked "
                            "(predict masked tokens of [story; question]), got '{}'{}",
                            text(v),
                            v.kind == ExprKind::Name ? suggest(v.text, {"answer", "masked"}) : ""));
    return false;
  }
  if (a.name != "test") {
    diag_.error(a.nameLoc, fmt::format("babi data has no option '{}'; its options are test (the "
                                       "file of test questions, as in babi(\"train.txt\", test = "
                                       "\"test.txt\")) and task (answer or masked){}",
                                       a.name, suggest(a.name, {"test", "task"})));
    return false;
  }
  if (v.kind != ExprKind::String) {
    diag_.error(v.loc,
                fmt::format("test of babi data must be a file path in quotes, got '{}'", text(v)));
    return false;
  }
  fs::path fp(v.text);
  TrainValue tv;
  tv.loc = v.loc;
  tv.string = fp.is_absolute()
                  ? v.text
                  : (fs::path(prog_.mainFile).parent_path() / fp).lexically_normal().string();
  cfg.dataArgs["test"] = tv;
  return false; // stored here, resolved
}

// bAbI examples are (story ids, question ids) -> answer id: the model's
// inputs and target must have those shapes.
void Checker::finishBabiData(const Expr &e, const TrainConfig &cfg, const Graph *g) {
  if (!g)
    return;
  auto task = cfg.dataArgs.find("task");
  bool masked = task != cfg.dataArgs.end() && task->second.string == std::string("masked");
  auto dt = [](DType d) { return d == DType::I32 ? "int" : "float"; };
  if (g->inputs.size() != 2) {
    diag_.error(e.loc,
                fmt::format("babi data gives each example a story and a question, so the model "
                            "needs two inputs, 'input story: int[S]' and 'input question: "
                            "int[Q]', but it has {}",
                            g->inputs.size()));
    return;
  }
  for (const IO &in : g->inputs) {
    if (in.dtype != DType::I32 || in.shape.size() != 1) {
      diag_.error(e.loc, fmt::format("babi data gives token ids, so the model's input '{}' must be "
                                     "'int[N]', but it is {} {}",
                                     in.name, dt(in.dtype), formatShape(in.shape)));
      diag_.note(in.loc, "the input is declared here");
    }
  }
  if (masked) {
    int64_t len = 0;
    for (const IO &in : g->inputs)
      len += in.shape.size() == 1 ? in.shape[0] : 0;
    if (g->targets.size() != 1 || g->targets[0].dtype != DType::I32 ||
        g->targets[0].shape != std::vector<int64_t>{len}) {
      diag_.error(e.loc, fmt::format("babi data with task = masked gives a label per position of "
                                     "[story; question] (-1 where nothing is predicted), so the "
                                     "model needs one target 'int[{}]' (story + question)",
                                     len));
      if (!g->targets.empty())
        diag_.note(g->targets[0].loc, "the target is declared here");
    }
  } else if (g->targets.size() != 1 || g->targets[0].dtype != DType::I32 ||
             !g->targets[0].shape.empty()) {
    diag_.error(e.loc,
                "babi data gives one answer (a token id) per example, so the model needs one "
                "target 'target answer: int'");
    if (!g->targets.empty())
      diag_.note(g->targets[0].loc, "the target is declared here");
  }
}

// text("corpus.txt", tokens = words|chars, window = N, mode = next|sequence)
bool Checker::checkTextOption(const Arg &a) {
  const Expr &v = *a.value;
  auto oneOf = [&](std::initializer_list<const char *> names) {
    std::string list;
    for (const char *n : names) {
      if (v.kind == ExprKind::Name && v.text == n)
        return true;
      list += fmt::format("{}{}", list.empty() ? "" : " or ", n);
    }
    std::vector<std::string> cands(names.begin(), names.end());
    diag_.error(v.loc, fmt::format("{} of text data must be {}, got '{}'{}", a.name, list, text(v),
                                   v.kind == ExprKind::Name ? suggest(v.text, cands) : ""));
    return false;
  };
  if (a.name == "tokens")
    return oneOf({"words", "chars"});
  if (a.name == "mode")
    return oneOf({"next", "sequence"});
  if (a.name == "window")
    return positiveInt(v, "window of text data").has_value();
  diag_.error(a.nameLoc, fmt::format("text data has no option '{}'; its options are tokens "
                                     "(words or chars), window (the number of tokens per "
                                     "example) and mode (next or sequence){}",
                                     a.name, suggest(a.name, {"tokens", "window", "mode"})));
  return false;
}

// Defaults of text data, and the shapes the model needs for it.
void Checker::finishTextData(const Expr &e, TrainConfig &cfg, const Graph *g) {
  auto setDefault = [&](const std::string &key, TrainValue v) {
    if (cfg.dataArgs.count(key))
      return;
    v.loc = e.loc;
    cfg.dataArgs[key] = v;
  };
  TrainValue words, next;
  words.string = "words";
  next.string = "next";
  setDefault("tokens", words);
  setDefault("mode", next);
  bool sequence = *cfg.dataArgs["mode"].string == "sequence";
  if (!g)
    return;
  // the token ids go to the first input: int[T]
  if (g->inputs.empty())
    return;
  const IO &in = g->inputs[0];
  if (in.dtype != DType::I32 || in.shape.size() != 1) {
    diag_.error(e.loc, fmt::format("text data gives each example a window of token ids, so the "
                                   "model's input must be 'int[T]', but '{}' is {} {}",
                                   in.name, in.dtype == DType::I32 ? "int" : "float",
                                   formatShape(in.shape)));
    diag_.note(in.loc, "the input is declared here");
    return;
  }
  if (!cfg.dataArgs.count("window")) {
    TrainValue w;
    w.number = double(in.shape[0]);
    setDefault("window", w);
  }
  if (g->targets.empty())
    return;
  const IO &tg = g->targets[0];
  bool ok = tg.dtype == DType::I32 && tg.shape.size() == (sequence ? 1u : 0u);
  if (!ok) {
    diag_.error(e.loc, sequence
                           ? fmt::format("mode = sequence predicts the token after every "
                                         "position of the window, so the target must be "
                                         "'int[T]', but '{}' is {} {}",
                                         tg.name, tg.dtype == DType::I32 ? "int" : "float",
                                         formatShape(tg.shape))
                           : fmt::format("mode = next predicts the token after the window, so "
                                         "the target must be 'int' (one token id), but '{}' is "
                                         "{} {}",
                                         tg.name, tg.dtype == DType::I32 ? "int" : "float",
                                         formatShape(tg.shape)));
    diag_.note(tg.loc, "the target is declared here");
  }
}

// `optimizer name(args)`: the name and the arguments' names, order and
// ranges are the rows of nnc/Optimizers/Optimizers.def.
void Checker::checkOptimizer(const Expr &e, TrainConfig &cfg) {
  const Expr *callee = &e;
  if (e.kind == ExprKind::Call)
    callee = e.lhs.get();
  if (!callee || callee->kind != ExprKind::Name) {
    diag_.error(e.loc, "expected an optimizer such as 'adam(lr = 0.01)'");
    return;
  }
  const optim::Optimizer *opt = optim::findOptimizer(callee->text);
  if (!opt) {
    diag_.error(callee->loc, fmt::format("unknown optimizer '{}'; expected {}{}", callee->text,
                                         optim::optimizerNames(),
                                         suggest(callee->text, optim::optimizerNameList())));
    return;
  }
  cfg.optimizer = opt->name;
  cfg.optimizerLoc = e.loc;
  const std::vector<std::string> names = optim::hyperNameList(*opt);
  size_t pos = 0;
  if (e.kind != ExprKind::Call)
    return;
  for (const Arg &a : e.args) {
    std::string key;
    Loc kloc = a.name.empty() ? a.value->loc : a.nameLoc;
    if (a.name.empty()) {
      if (pos >= names.size()) {
        diag_.error(a.value->loc, fmt::format("{} expects at most {} arguments, got {}", opt->name,
                                              names.size(), e.args.size()));
        return;
      }
      key = names[pos++];
    } else {
      key = a.name;
      if (std::find(names.begin(), names.end(), key) == names.end()) {
        diag_.error(kloc,
                    fmt::format("{} has no argument '{}'; its arguments are {}{}", opt->name, key,
                                optim::joinNames(names, ", ", ", "), suggest(key, names)));
        continue;
      }
    }
    if (cfg.optimizerArgs.count(key)) {
      diag_.error(kloc, fmt::format("argument '{}' of {} is given twice", key, opt->name));
      continue;
    }
    auto v = number(*a.value, fmt::format("argument '{}' of {}", key, opt->name));
    if (!v)
      continue;
    if (const char *want = optim::rangeViolation(*optim::findHyper(*opt, key), v->f)) {
      diag_.error(a.value->loc, fmt::format("argument '{}' of {} must be {}, got {}", key,
                                            opt->name, want, text(*a.value)));
      continue;
    }
    TrainValue tv;
    tv.number = v->f;
    tv.loc = a.value->loc;
    cfg.optimizerArgs[key] = tv;
  }
}

// schedule name or name(args): the runtime's table (nnrt/nnrt_schedules.def)
// checks the name, the arguments (by position or name) and their ranges.
void Checker::checkSchedule(const Expr &e, TrainConfig &cfg) {
  const Expr *callee = e.kind == ExprKind::Call ? e.lhs.get() : &e;
  if (!callee || callee->kind != ExprKind::Name) {
    diag_.error(e.loc, fmt::format("expected a schedule such as 'cosine(warmup = 100)'; the "
                                   "schedules are {}",
                                   nnrt_schedule_names()));
    return;
  }
  nnrt_schedule s;
  nnrt_error err{};
  if (nnrt_schedule_init(&s, callee->text.c_str(), &err)) {
    diag_.error(callee->loc, err.msg);
    return;
  }
  cfg.schedule = callee->text;
  if (e.kind != ExprKind::Call)
    return;
  int pos = 0;
  for (const Arg &a : e.args) {
    Loc at = a.name.empty() ? a.value->loc : a.nameLoc;
    std::string key = a.name;
    if (key.empty()) {
      const char *name = nnrt_schedule_arg(&s, pos++);
      if (!name) {
        diag_.error(at,
                    fmt::format("schedule {} takes at most {} arguments", callee->text, pos - 1));
        return;
      }
      key = name;
    }
    auto v = number(*a.value, fmt::format("argument '{}' of schedule {}", key, callee->text));
    if (!v)
      continue;
    if (cfg.scheduleArgs.count(key))
      diag_.error(at,
                  fmt::format("argument '{}' of schedule {} is given twice", key, callee->text));
    else if (nnrt_schedule_set(&s, key.c_str(), v->f, &err))
      diag_.error(at, err.msg);
    else
      cfg.scheduleArgs[key] = v->f;
  }
}

// A validation metric needs validation data when something watches it.
void Checker::checkMonitor(const TrainDecl &t, TrainConfig &cfg) {
  bool watched = cfg.earlyStopping > 0 || cfg.schedule == "plateau";
  bool validation = cfg.validationSplit > 0 || cfg.validateOnTest;
  if (!watched || validation || cfg.monitor.rfind("val_", 0) != 0)
    return;
  for (const TrainSetting &s : t.settings)
    if (s.key == "monitor")
      diag_.error(s.value->loc, fmt::format("monitor {} needs validation data: set "
                                            "validation_split or validation_data test, or "
                                            "monitor {}",
                                            cfg.monitor, cfg.monitor.substr(4)));
}

} // namespace nnc::dsl::detail
