// Checkpoint.cpp: the metadata each command needs from a checkpoint.
#include "Checkpoint.h"

#include <cstdio>
#include <cstring>

namespace nnc::tool {

namespace {

bool isClassifier(const dsl::Graph &g) {
  return !g.targets.empty() && g.targets[0].dtype == dsl::DType::I32;
}

bool isCsv(const dsl::Graph &g) {
  return g.train.dataKind != "text" && g.train.dataKind != "babi";
}

bool missing(const nnrt_metadata &md, const char *key, const std::string &path,
             const std::string &why, nnrt_error &e) {
  if (nnrt_metadata_get(&md, key))
    return false;
  std::snprintf(e.msg, sizeof e.msg,
                "checkpoint '%s' has no metadata '%s' (%s); expected a checkpoint written by "
                "nnc train --save, whose __metadata__ holds it",
                path.c_str(), key, why.c_str());
  return true;
}

} // namespace

void describeLabels(const dsl::Graph &g, const nnrt_dataset &all, nnrt_metadata &md) {
  if (isCsv(g) && isClassifier(g))
    nnrt_metadata_set(&md, "nnc.labels", all.num_classes > 0 ? "names" : "ids");
}

bool checkPredictMetadata(const dsl::Graph &g, const nnrt_metadata &md, const std::string &path,
                          nnrt_error &e) {
  if (!isCsv(g))
    return true;
  std::string model = "model '" + g.modelName + "'";
  if (g.train.scale) {
    std::string why = model + " scales its inputs as training did";
    if (missing(md, "nnc.scaler_min", path, why, e) || missing(md, "nnc.scaler_max", path, why, e))
      return false;
  }
  const char *labels = nnrt_metadata_get(&md, "nnc.labels");
  bool ids = labels && std::strcmp(labels, "ids") == 0;
  return !isClassifier(g) || ids ||
         !missing(md, "nnc.classes", path, model + " names the classes it predicts", e);
}

bool checkResumeMetadata(const nnrt_metadata &md, const std::string &path, nnrt_error &e) {
  const char *why = "--resume continues from the epoch and step training saved; --init starts a "
                    "new run from its weights";
  return !missing(md, "nnc.epochs", path, why, e) && !missing(md, "nnc.step", path, why, e);
}

} // namespace nnc::tool
