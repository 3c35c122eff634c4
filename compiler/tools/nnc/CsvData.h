// CsvData.h: where a CSV dataset meets a model in nnc, the data contract
// between them (class count, feature count) is checked.
#pragma once

#include "nnc/dsl/Graph.h"
#include "nnrt/nnrt.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace nnc::tool {

// The number of classes the model's first target holds: the last dimension
// of the logits a cross-entropy reads it against (the first output's last
// dimension when no cross-entropy names it directly); 0 when the first
// target is not a class id.
int64_t csvClassCount(const dsl::Graph &g);

// Whether the model's first target is float (regression): its data gives
// float targets and predict prints output values, not class scores.
bool isRegression(const dsl::Graph &g);

// Loads a training CSV for model g with its train block's options: class
// labels checked against the class count, or float targets (regression)
// when the model's first target is float; false with the message in e.
bool loadTrainingCsv(const dsl::Graph &g, const std::string &path, nnrt_dataset &out,
                     nnrt_error &e);

// The columns `targets = "t1, t2"` names when the model's first target is
// float; empty otherwise (a label column is the checkpoint's label column).
std::vector<std::string> csvTargetColumns(const dsl::Graph &g);

// nnc compile and summary: a train block's CSV with more classes than the
// model's logits is an error at the block's data line (reported, false).
// Data that cannot be read passes: compiling does not need it, and train
// reports it with the file's own line.
bool checkDataClasses(const dsl::Graph &g);

// Writes a regression model's outputs, a row of values per example.
void printValues(std::FILE *f, const float *v, int64_t n, int64_t k);

// The checkpoint's class names must not outnumber the model's outputs, or
// output i would be printed with another class's name.
bool checkClassNames(const nnrt_model *m, int numNames, const std::string &checkpoint,
                     nnrt_error &e);

// The size of the model's first input (the features a prediction row
// gives), 0 when the model has none.
int64_t featureCount(const nnrt_model *m);

} // namespace nnc::tool
