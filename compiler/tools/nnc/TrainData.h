// TrainData.h: the data `nnc train` trains on, by the train block's data
// kind: CSV rows, a text corpus (token windows or sequences) or bAbI stories
// and questions; then split, scaled and checked against the compiled model.
#pragma once

#include "nnc/dsl/Graph.h"
#include "nnrt/nnrt.h"

#include <cstdint>
#include <string>

namespace nnc::tool {

// The train block and the flags, resolved.
struct TrainSettings {
  std::string dataPath, testPath; // testPath: a bAbI test file
  std::string label;              // the train block's label column
  int64_t epochs = 1;
  float lr = 0;
  float clipNorm = 0; // 0: no clipping
  nnrt_schedule schedule{};
  std::string monitor;       // "": val_loss with validation data, else loss
  int64_t earlyStopping = 0; // the patience; 0: none
  std::string saveBest;      // --save-best: the checkpoint of the best epoch
  uint64_t seed = 0;
  int64_t sampleEvery = 0;
  bool quiet = false;
  bool text = false, babi = false, masked = false; // masked: bAbI masked tokens
};

struct TrainData {
  nnrt_dataset all{}, train{}, test{}, fit{}, val{};
  nnrt_vocab vocab{};      // text and bAbI
  std::string prompt;      // text: the corpus's first window, the default sample prompt
  nnrt_babi_set sets[2]{}; // bAbI: training and test file
  int numSets = 0;
  int64_t dataStoryLen = 0, dataQuestionLen = 0; // bAbI: the longest in the data
  int64_t storyLen = 0, questionLen = 0;         // bAbI: the model's
  int32_t maskId = -1;                           // masked bAbI: the [mask] token
  nnrt_scaler scaler{};
  bool scaled = false;

  TrainData() = default;
  TrainData(const TrainData &) = delete;
  TrainData &operator=(const TrainData &) = delete;
  ~TrainData();
};

// Reads the data before the model is compiled, so that a missing or bad
// file does not wait for the compiler; false with the message in e.
bool loadTrainData(const dsl::Graph &g, const TrainSettings &s, TrainData &d, nnrt_error &e);

// Checks the data against the compiled model, then splits off the test and
// validation rows and scales the features (fit on the training rows).
bool prepareTrainData(const dsl::Graph &g, const nnrt_model *m, const TrainSettings &s,
                      TrainData &d, nnrt_error &e);

// ", vocabulary N, ...": the data's facts for the line before training.
std::string describeTrainData(const TrainSettings &s, const TrainData &d);

} // namespace nnc::tool
