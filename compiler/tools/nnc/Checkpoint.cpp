// Checkpoint.cpp: writing, reading and checking nnc's checkpoint metadata.
#include "Checkpoint.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace nnc::tool {

namespace {

bool isClassifier(const dsl::Graph &g) {
  return !g.targets.empty() && g.targets[0].dtype == dsl::DType::I32;
}

bool isCsv(const dsl::Graph &g) { return g.train.dataKind != "text" && g.train.dataKind != "babi"; }

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

void setInt(nnrt_metadata &md, const char *key, int64_t v) {
  nnrt_metadata_set(&md, key, std::to_string(v).c_str());
}

void getInt(const nnrt_metadata &md, const char *key, std::optional<int64_t> &v) {
  if (const char *s = nnrt_metadata_get(&md, key))
    v = std::atoll(s);
}

bool decodeFloats(const char *json, std::vector<float> &out, nnrt_error &e) {
  float *v = nullptr;
  int64_t n = 0;
  if (nnrt_json_decode_floats(json, &v, &n, &e))
    return false;
  out.assign(v, v + n);
  std::free(v);
  return true;
}

void setStrings(nnrt_metadata &md, const char *key, const std::vector<std::string> &v) {
  if (v.empty())
    return;
  std::vector<const char *> names;
  for (const std::string &s : v)
    names.push_back(s.c_str());
  char *j = nnrt_json_encode_strings(names.data(), int(names.size()));
  nnrt_metadata_set(&md, key, j);
  std::free(j);
}

bool getStrings(const nnrt_metadata &md, const char *key, const char *what,
                std::vector<std::string> &out, nnrt_error &e) {
  const char *json = nnrt_metadata_get(&md, key);
  if (!json)
    return true;
  char **names = nullptr;
  int n = 0;
  if (nnrt_json_decode_strings(json, &names, &n, &e)) {
    std::string msg = std::string("the checkpoint's ") + what + ": " + e.msg;
    std::snprintf(e.msg, sizeof e.msg, "%s", msg.c_str());
    return false;
  }
  out.assign(names, names + n);
  nnrt_free_strings(names, n);
  return true;
}

} // namespace

bool saveTrainingMeta(const TrainingMeta &meta, nnrt_metadata &md, nnrt_error &e) {
  setStrings(md, NNRT_META_CLASSES, meta.classes);
  setStrings(md, NNRT_META_TARGET_COLUMNS, meta.targetColumns);
  setStrings(md, NNRT_META_FEATURE_COLUMNS, meta.featureColumns);
  if (meta.scaled) {
    char *mn = nnrt_json_encode_floats(meta.scalerMin.data(), int64_t(meta.scalerMin.size()));
    char *mx = nnrt_json_encode_floats(meta.scalerMax.data(), int64_t(meta.scalerMax.size()));
    nnrt_metadata_set(&md, NNRT_META_SCALER_MIN, mn);
    nnrt_metadata_set(&md, NNRT_META_SCALER_MAX, mx);
    std::free(mn);
    std::free(mx);
  }
  if (meta.vocab && nnrt_vocab_to_metadata(meta.vocab, &md, &e))
    return false;
  if (meta.storyLen)
    setInt(md, NNRT_META_STORY_LEN, *meta.storyLen);
  if (meta.questionLen)
    setInt(md, NNRT_META_QUESTION_LEN, *meta.questionLen);
  if (meta.maskId)
    setInt(md, NNRT_META_MASK_ID, *meta.maskId);
  if (!meta.labelColumn.empty())
    nnrt_metadata_set(&md, NNRT_META_LABEL_COLUMN, meta.labelColumn.c_str());
  if (!meta.labels.empty())
    nnrt_metadata_set(&md, NNRT_META_LABELS, meta.labels.c_str());
  setInt(md, NNRT_META_STEP, meta.step);
  setInt(md, NNRT_META_EPOCHS, meta.epochs);
  if (meta.fitState) {
    char *text = nnrt_fit_state_encode(&*meta.fitState);
    if (!text) {
      std::snprintf(e.msg, sizeof e.msg, "out of memory");
      return false;
    }
    nnrt_metadata_set(&md, NNRT_META_FIT_STATE, text);
    std::free(text);
  }
  return true;
}

bool loadTrainingMeta(const nnrt_metadata &md, TrainingMeta &meta, nnrt_error &e) {
  const char *mn = nnrt_metadata_get(&md, NNRT_META_SCALER_MIN);
  const char *mx = nnrt_metadata_get(&md, NNRT_META_SCALER_MAX);
  meta.scaled = mn && mx;
  if (meta.scaled) {
    if (!decodeFloats(mn, meta.scalerMin, e) || !decodeFloats(mx, meta.scalerMax, e) ||
        meta.scalerMin.size() != meta.scalerMax.size()) {
      std::string msg = std::string("the checkpoint's scaler: ") +
                        (meta.scalerMin.size() != meta.scalerMax.size() && e.msg[0] == 0
                             ? "its minima and maxima differ in length"
                             : e.msg);
      std::snprintf(e.msg, sizeof e.msg, "%s", msg.c_str());
      return false;
    }
  }
  if (!getStrings(md, NNRT_META_CLASSES, "class names", meta.classes, e) ||
      !getStrings(md, NNRT_META_TARGET_COLUMNS, "target columns", meta.targetColumns, e) ||
      !getStrings(md, NNRT_META_FEATURE_COLUMNS, "feature columns", meta.featureColumns, e))
    return false;
  if (const char *s = nnrt_metadata_get(&md, NNRT_META_LABELS))
    meta.labels = s;
  if (const char *s = nnrt_metadata_get(&md, NNRT_META_LABEL_COLUMN))
    meta.labelColumn = s;
  getInt(md, NNRT_META_STORY_LEN, meta.storyLen);
  getInt(md, NNRT_META_QUESTION_LEN, meta.questionLen);
  getInt(md, NNRT_META_MASK_ID, meta.maskId);
  std::optional<int64_t> step, epochs;
  getInt(md, NNRT_META_STEP, step);
  getInt(md, NNRT_META_EPOCHS, epochs);
  meta.step = step.value_or(0);
  meta.epochs = epochs.value_or(0);
  if (const char *text = nnrt_metadata_get(&md, NNRT_META_FIT_STATE)) {
    nnrt_fit_state st{};
    if (nnrt_fit_state_decode(text, &st, &e))
      return false;
    meta.fitState = st;
  }
  return true;
}

std::string labelKind(const dsl::Graph &g, const nnrt_dataset &all) {
  if (isCsv(g) && isClassifier(g))
    return all.num_classes > 0 ? "names" : "ids";
  return "";
}

bool checkPredictMetadata(const dsl::Graph &g, const nnrt_metadata &md, const std::string &path,
                          nnrt_error &e) {
  if (!isCsv(g))
    return true;
  std::string model = "model '" + g.modelName + "'";
  if (g.train.scale) {
    std::string why = model + " scales its inputs as training did";
    if (missing(md, NNRT_META_SCALER_MIN, path, why, e) ||
        missing(md, NNRT_META_SCALER_MAX, path, why, e))
      return false;
  }
  const char *labels = nnrt_metadata_get(&md, NNRT_META_LABELS);
  bool ids = labels && std::strcmp(labels, "ids") == 0;
  return !isClassifier(g) || ids ||
         !missing(md, NNRT_META_CLASSES, path, model + " names the classes it predicts", e);
}

bool checkResumeMetadata(const nnrt_metadata &md, const std::string &path, nnrt_error &e) {
  const char *why = "--resume continues from the epoch and step training saved; --init starts a "
                    "new run from its weights";
  return !missing(md, NNRT_META_EPOCHS, path, why, e) && !missing(md, NNRT_META_STEP, path, why, e);
}

} // namespace nnc::tool
