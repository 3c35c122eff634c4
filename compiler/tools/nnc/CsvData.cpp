// CsvData.cpp: the data contract between a CSV file and a model.
#include "CsvData.h"

#include <cstdio>

namespace nnc::tool {

int64_t csvClassCount(const dsl::Graph &g) {
  if (g.targets.empty() || g.targets[0].dtype != dsl::DType::I32)
    return 0;
  for (const dsl::Node &n : g.nodes) {
    if (n.op != dsl::OpKind::CrossEntropy || n.operands.size() != 2)
      continue;
    const dsl::Node &labels = g.nodes[n.operands[1]];
    const dsl::Node &logits = g.nodes[n.operands[0]];
    if (labels.op == dsl::OpKind::Target && labels.ioIndex == 0 && !logits.shape.empty())
      return logits.shape.back();
  }
  if (g.outputs.empty() || g.outputs[0].shape.empty())
    return 0;
  return g.outputs[0].shape.back();
}

bool loadTrainingCsv(const dsl::Graph &g, const std::string &path, const std::string &label,
                     nnrt_dataset &out, nnrt_error &e) {
  nnrt_csv_options opt{};
  opt.label_column = label.empty() ? nullptr : label.c_str();
  opt.num_classes = csvClassCount(g);
  return nnrt_csv_load_opts(path.c_str(), &opt, &out, &e) == 0;
}

bool checkClassNames(const nnrt_model *m, int numNames, const std::string &checkpoint,
                     nnrt_error &e) {
  int first = -1;
  if (numNames == 0 || nnrt_model_count(m, NNRT_OUTPUT, &first) < 1)
    return true;
  const nnrt_tensor_info &out = m->tensors[first];
  int64_t width = out.rank ? out.shape[out.rank - 1] : 1;
  if (numNames <= width)
    return true;
  std::snprintf(e.msg, sizeof e.msg,
                "checkpoint '%s' names %d classes but model '%s' has %lld outputs: it was "
                "trained on data with more classes than the model; expected at most %lld",
                checkpoint.c_str(), numNames, m->name, (long long)width, (long long)width);
  return false;
}

int64_t featureCount(const nnrt_model *m) {
  int first = -1;
  if (nnrt_model_count(m, NNRT_INPUT, &first) < 1)
    return 0;
  return m->tensors[first].size;
}

} // namespace nnc::tool
