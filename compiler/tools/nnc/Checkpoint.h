// Checkpoint.h: the schema of the `__metadata__` nnc writes into a
// checkpoint beside the parameters, and the one place that writes and reads
// it. Every key is defined in nnrt.h (NNRT_META_*), where an app finds them
// too; the runtime reads the model's name and the vocabulary, nnc the rest.
//
// A checkpoint that lacks what a command needs would still load, and give
// other answers than the ones training saw (no input scaling, no class
// names), so such a checkpoint is refused.
#pragma once

#include "nnc/dsl/Graph.h"
#include "nnrt/nnrt.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc::tool {

// What training knew that a later command needs; each field is a key of
// nnrt.h (NNRT_META_*, or the vocabulary). Absent keys stay empty.
struct TrainingMeta {
  std::vector<std::string> classes;
  bool scaled = false; // the inputs are scaled to [0, 1] by scalerMin/Max
  std::vector<float> scalerMin, scalerMax;
  std::string labels, labelColumn;
  // predict skips the target columns of a training file by name, and names
  // the features it expects when a file has other columns.
  std::vector<std::string> targetColumns, featureColumns;
  std::optional<int64_t> storyLen, questionLen, maskId;
  int64_t step = 0, epochs = 0;
  std::optional<nnrt_fit_state> fitState; // the schedule's and the monitor's (--resume)
  const nnrt_vocab *vocab = nullptr;      // written only; read with nnrt_vocab_from_metadata
};

// Fills md from meta; false with the message in e.
bool saveTrainingMeta(const TrainingMeta &meta, nnrt_metadata &md, nnrt_error &e);

// Reads every key of meta that md has; false with the message in e when a
// value does not decode.
bool loadTrainingMeta(const nnrt_metadata &md, TrainingMeta &meta, nnrt_error &e);

// How the training CSV gave its class labels (NNRT_META_LABELS), so that
// predict can tell a classifier trained on integer labels (no class names)
// from a checkpoint that lost its names; "" for other models and data.
std::string labelKind(const dsl::Graph &g, const nnrt_dataset &all);

// predict on CSV rows: the input scaling when the train block scales, and
// the class names when the labels were names; false with the missing key
// and the checkpoint's path in e.
bool checkPredictMetadata(const dsl::Graph &g, const nnrt_metadata &md, const std::string &path,
                          nnrt_error &e);

// train --resume: the epoch and step to continue from.
bool checkResumeMetadata(const nnrt_metadata &md, const std::string &path, nnrt_error &e);

} // namespace nnc::tool
