// Checkpoint.h: the schema of the `__metadata__` nnc writes into a
// checkpoint beside the parameters, and the one place that writes and reads
// it. The runtime's own keys (the model's name, the vocabulary) are in
// nnrt.h (NNRT_META_MODEL, NNRT_META_VOCAB, NNRT_META_TOKENS); the runtime
// reads those, nnc alone reads these.
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

namespace meta {
inline constexpr const char *kClasses = "nnc.classes";          // JSON list of class names by id
inline constexpr const char *kScalerMin = "nnc.scaler_min";     // JSON list, a value per feature
inline constexpr const char *kScalerMax = "nnc.scaler_max";     // JSON list, a value per feature
inline constexpr const char *kLabels = "nnc.labels";            // "names" or "ids" (CSV classes)
inline constexpr const char *kLabelColumn = "nnc.label_column"; // the CSV column of the label
inline constexpr const char *kTargetColumns = "nnc.target_columns"; // JSON list: targets = "..."
inline constexpr const char *kFeatureColumns =
    "nnc.feature_columns";                                // JSON list, the CSV's features
inline constexpr const char *kStoryLen = "nnc.story_len"; // bAbI: the model's lengths
inline constexpr const char *kQuestionLen = "nnc.question_len";
inline constexpr const char *kMaskId = "nnc.mask_id"; // masked-token bAbI data's [mask]
inline constexpr const char *kStep = "nnc.step";      // where --resume continues
inline constexpr const char *kEpochs = "nnc.epochs";
} // namespace meta

// What training knew that a later command needs; each field is a key above
// (or the vocabulary). Absent keys stay empty.
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
  const nnrt_vocab *vocab = nullptr; // written only; read with nnrt_vocab_from_metadata
};

// Fills md from meta; false with the message in e.
bool saveTrainingMeta(const TrainingMeta &meta, nnrt_metadata &md, nnrt_error &e);

// Reads every key of meta that md has; false with the message in e when a
// value does not decode.
bool loadTrainingMeta(const nnrt_metadata &md, TrainingMeta &meta, nnrt_error &e);

// How the training CSV gave its class labels (meta::kLabels), so that
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
