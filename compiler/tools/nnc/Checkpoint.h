// Checkpoint.h: what a command needs from a checkpoint's metadata. A
// checkpoint that lacks it would still load, and give other answers than the
// one training saved (no input scaling, no class names), so it is refused.
#pragma once

#include "nnc/dsl/Graph.h"
#include "nnrt/nnrt.h"

#include <string>

namespace nnc::tool {

// Records how the training CSV gave its class labels ("names" or "ids" in
// nnc.labels), so that predict can tell a classifier trained on integer
// labels (no class names) from a checkpoint that lost its names.
void describeLabels(const dsl::Graph &g, const nnrt_dataset &all, nnrt_metadata &md);

// predict on CSV rows: the input scaling when the train block scales, and
// the class names when the labels were names; false with the missing key
// and the checkpoint's path in e.
bool checkPredictMetadata(const dsl::Graph &g, const nnrt_metadata &md, const std::string &path,
                          nnrt_error &e);

// train --resume: the epoch and step to continue from.
bool checkResumeMetadata(const nnrt_metadata &md, const std::string &path, nnrt_error &e);

} // namespace nnc::tool
