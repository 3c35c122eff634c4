// CmdPredict.cpp: nnc predict: the model's answers for rows of a CSV file
// (or stdin), with the checkpoint's input scaling and class names.
#include "Checkpoint.h"
#include "CsvData.h"
#include "Driver.h"

#include <cstdio>
#include <vector>

namespace nnc::tool {

int cmdPredict(const Args &a) {
  if (!a.has("checkpoint"))
    return fail("predict needs --checkpoint CKPT (written by nnc train --save)");
  std::optional<dsl::Graph> g;
  auto tr = loadGraphAndTrained(a, g);
  if (!tr)
    return 1;
  const nnrt_model *m = tr->m;
  const nnrt_metadata &md = tr->md;
  const Floats &params = tr->params;
  nnrt_error e{};
  if (!checkPredictMetadata(*g, md, a.get("checkpoint"), e))
    return fail(e.msg);
  TrainingMeta meta;
  if (!loadTrainingMeta(md, meta, e))
    return fail(e.msg);
  std::string input = a.get("input", "-");
  nnrt_dataset x{};
  // The training file's label or target columns are skipped by name, so
  // that the file a model trained on can be given as it is.
  std::vector<const char *> skip, features;
  for (const std::string &c : meta.targetColumns)
    skip.push_back(c.c_str());
  if (skip.empty() && !meta.labelColumn.empty())
    skip.push_back(meta.labelColumn.c_str());
  for (const std::string &c : meta.featureColumns)
    features.push_back(c.c_str());
  nnrt_csv_input_options in{};
  in.skip_columns = skip.data();
  in.num_skip = int(skip.size());
  in.num_features = featureCount(m);
  in.feature_names = features.data();
  in.num_feature_names = int(features.size());
  int rc = input == "-" ? nnrt_csv_load_inputs_opts("<stdin>", stdin, &in, &x, &e)
                        : nnrt_csv_load_inputs_opts(input.c_str(), nullptr, &in, &x, &e);
  if (rc)
    return fail(e.msg);
  if (nnrt_dataset_check(&x, m, 0, input == "-" ? "<stdin>" : input.c_str(), &e))
    return fail(e.msg);
  nnrt_scaler scaler{};
  if (meta.scaled && (nnrt_scaler_set(&scaler, meta.scalerMin.data(), meta.scalerMax.data(),
                                      int64_t(meta.scalerMin.size()), &e) ||
                      nnrt_scaler_apply(&scaler, &x, 0, &e)))
    return fail(std::string("the checkpoint's scaler: ") + e.msg);
  std::vector<const char *> names;
  for (const std::string &c : meta.classes)
    names.push_back(c.c_str());
  int numNames = int(names.size());
  if (!checkClassNames(m, numNames, a.get("checkpoint"), e))
    return fail(e.msg);
  nnrt_dataset out{};
  if (nnrt_predict(m, params.data(), &x, &out, &e))
    return fail(e.msg);
  // A float target is regression: the outputs are the answer, not scores.
  if (isRegression(*g))
    printValues(stdout, (const float *)out.fields[0].data, out.n, out.fields[0].size);
  else
    nnrt_print_predictions(stdout, (const float *)out.fields[0].data, out.n, out.fields[0].size,
                           numNames ? names.data() : nullptr, numNames);
  nnrt_scaler_free(&scaler);
  nnrt_dataset_free(&x);
  nnrt_dataset_free(&out);
  return 0;
}

} // namespace nnc::tool
