// TrainData.cpp: loading, checking and splitting the training data.
#include "TrainData.h"

#include "CsvData.h"
#include "Driver.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace nnc::tool {

TrainData::~TrainData() {
  for (nnrt_dataset *ds : {&all, &train, &test, &fit, &val})
    nnrt_dataset_free(ds);
  for (auto &set : sets)
    nnrt_babi_set_free(&set);
  nnrt_vocab_free(&vocab);
  nnrt_scaler_free(&scaler);
}

namespace {

// The vocabulary and token windows or sequences of `data text(...)`.
bool loadText(const dsl::Graph &g, const std::string &path, TrainData &d, nnrt_error &e) {
  const dsl::TrainConfig &t = g.train;
  auto arg = [&](const char *k) -> const dsl::TrainValue * {
    auto it = t.dataArgs.find(k);
    return it == t.dataArgs.end() ? nullptr : &it->second;
  };
  std::string tokens = arg("tokens") && arg("tokens")->string ? *arg("tokens")->string : "words";
  std::string mode = arg("mode") && arg("mode")->string ? *arg("mode")->string : "next";
  int64_t window = arg("window") && arg("window")->number          ? int64_t(*arg("window")->number)
                   : g.inputs.empty() || g.inputs[0].shape.empty() ? 0
                                                                   : g.inputs[0].shape[0];
  char *text = nullptr;
  size_t len = 0;
  if (nnrt_text_load(path.c_str(), &text, &len, &e))
    return false;
  int kind = tokens == "chars" ? NNRT_TOKENS_CHARS : NNRT_TOKENS_WORDS;
  int32_t *ids = nullptr;
  int64_t n = 0;
  // The runtime's "the text has no words" knows no file name.
  if (nnrt_vocab_build(&d.vocab, kind, text, len, &e)) {
    std::free(text);
    std::string msg =
        path + ": " + e.msg + "; expected a text with " +
        (kind == NNRT_TOKENS_CHARS ? "some characters" : "words (punctuation is dropped)");
    std::snprintf(e.msg, sizeof e.msg, "%s", msg.c_str());
    return false;
  }
  bool ok = nnrt_vocab_encode(&d.vocab, text, len, &ids, &n, &e) == 0 &&
            (mode == "sequence" ? nnrt_dataset_sequences(&d.all, ids, n, window, &e)
                                : nnrt_dataset_windows(&d.all, ids, n, window, &e)) == 0;
  if (ok) {
    char *p = nullptr;
    if (nnrt_vocab_decode(&d.vocab, ids, std::min<int64_t>(n, window), &p, &e) == 0) {
      d.prompt = p;
      std::free(p);
    }
  }
  std::free(ids);
  std::free(text);
  return ok;
}

// bAbI question answering: one vocabulary over the training and test
// files, and their examples padded to the model's lengths.
bool loadBabi(const dsl::Graph &g, const TrainSettings &s, TrainData &d, nnrt_error &e) {
  const char *paths[2] = {s.dataPath.c_str(), s.testPath.c_str()};
  d.numSets = s.testPath.empty() ? 1 : 2;
  if (nnrt_babi_load(paths, d.numSets, d.sets, &d.vocab, &d.dataStoryLen, &d.dataQuestionLen, &e))
    return false;
  // The mask token is the last id: the other ids stay those of the same
  // data without masking, so a classifier trained on it (with a
  // vocabulary of at least this size) reads the same embedding rows.
  if (s.masked && nnrt_vocab_append(&d.vocab, "[mask]", &d.maskId, &e))
    return false;
  // The front end checked the shapes: story int[S], question int[Q],
  // answer int, so the data's fit can be checked before compiling.
  int64_t vocabSize =
      g.outputs.empty() || g.outputs[0].shape.empty() ? 0 : g.outputs[0].shape.back();
  if (vocabSize > 0 && vocabSize < d.vocab.size) {
    std::string msg = s.dataPath + (s.testPath.empty() ? "" : " and " + s.testPath) +
                      " have a vocabulary of " + std::to_string(d.vocab.size) +
                      " ids (with the padding id 0) but model '" + g.modelName + "' predicts " +
                      std::to_string(vocabSize) + ": set the model's vocabulary parameter to " +
                      std::to_string(d.vocab.size);
    std::snprintf(e.msg, sizeof e.msg, "%s", msg.c_str());
    return false;
  }
  auto make = s.masked ? nnrt_babi_masked_dataset : nnrt_babi_dataset;
  return !(g.inputs.size() == 2 &&
           (make(&d.sets[0], g.inputs[0].shape[0], g.inputs[1].shape[0], &d.all, &e) ||
            (d.numSets > 1 &&
             make(&d.sets[1], g.inputs[0].shape[0], g.inputs[1].shape[0], &d.test, &e))));
}

} // namespace

bool loadTrainData(const dsl::Graph &g, const TrainSettings &s, TrainData &d, nnrt_error &e) {
  if (s.text)
    return loadText(g, s.dataPath, d, e);
  if (s.babi)
    return loadBabi(g, s, d, e);
  return loadTrainingCsv(g, s.dataPath, d.all, e);
}

bool prepareTrainData(const dsl::Graph &g, const nnrt_model *m, const TrainSettings &s,
                      TrainData &d, nnrt_error &e) {
  const dsl::TrainConfig &t = g.train;
  if (s.text && !checkVocabulary(m, d.vocab, s.dataPath, e))
    return false;
  if (s.babi && ((s.masked ? nnrt_babi_check_masked_model(m, &d.storyLen, &d.questionLen, &e)
                           : nnrt_babi_check_model(m, &d.storyLen, &d.questionLen, &e)) ||
                 !checkVocabulary(m, d.vocab, s.dataPath, e)))
    return false;
  if (nnrt_dataset_check(&d.all, m, 1, s.dataPath.c_str(), &e))
    return false;

  // Text keeps its order (the held-out part is the end of the corpus); a
  // bAbI test file is the test set as it is.
  if (s.babi && d.numSets > 1) {
    d.train = d.all;
    d.all = nnrt_dataset{};
  } else if ((s.text ? nnrt_split_last(&d.all, t.testSplit, &d.train, &d.test, &e)
                     : nnrt_split(&d.all, t.testSplit, s.seed, &d.train, &d.test, &e))) {
    return false;
  }
  d.scaled = t.scale && !s.text && !s.babi; // token ids are not scaled
  if (d.scaled && (nnrt_scaler_fit(&d.scaler, &d.train, 0, &e) ||
                   nnrt_scaler_apply(&d.scaler, &d.train, 0, &e) ||
                   (d.test.n > 0 && nnrt_scaler_apply(&d.scaler, &d.test, 0, &e))))
    return false;
  if (t.validationSplit > 0)
    return !(s.text ? nnrt_split_last(&d.train, t.validationSplit, &d.fit, &d.val, &e)
                    : nnrt_split(&d.train, t.validationSplit, s.seed + 1, &d.fit, &d.val, &e));
  d.fit = d.train;
  d.train = nnrt_dataset{};
  return true;
}

std::string describeTrainData(const TrainSettings &s, const TrainData &d) {
  if (s.text)
    return ", vocabulary " + std::to_string(d.vocab.size);
  if (s.babi)
    return ", vocabulary " + std::to_string(d.vocab.size) + ", stories up to " +
           std::to_string(d.dataStoryLen) + " tokens, questions up to " +
           std::to_string(d.dataQuestionLen);
  return "";
}

} // namespace nnc::tool
