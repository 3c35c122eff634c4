// CsvData.cpp: the data contract between a CSV file and a model.
#include "CsvData.h"

#include "nnc/dsl/Diagnostics.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace nnc::tool {

bool isRegression(const dsl::Graph &g) {
  return !g.targets.empty() && g.targets[0].dtype == dsl::DType::F32;
}

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

// "a, b" -> {"a", "b"}: the train block's values are numbers or strings,
// so several target columns are one comma-separated string.
static std::vector<std::string> splitColumns(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(',', start);
    std::string part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
    out.push_back(b == std::string::npos ? "" : part.substr(b, e - b + 1));
    if (end == std::string::npos)
      return out;
    start = end + 1;
  }
}

static std::string dataArg(const dsl::Graph &g, const char *key) {
  auto it = g.train.dataArgs.find(key);
  return it != g.train.dataArgs.end() && it->second.string ? *it->second.string : "";
}

// Where the train block sets key (its data line when it does not).
static std::string where(const dsl::Graph &g, const char *key) {
  auto it = g.train.dataArgs.find(key);
  const dsl::Loc &l = it != g.train.dataArgs.end() ? it->second.loc : g.train.dataLoc;
  return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col);
}

static int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

// A float first target (regression) reads `targets = "a, b"`, or the
// label column, or the last column, as float columns.
static bool targetColumns(const dsl::Graph &g, std::vector<std::string> &cols, nnrt_error &e) {
  std::string targets = dataArg(g, "targets"), label = dataArg(g, "label");
  bool floats = isRegression(g);
  if (!floats) {
    if (targets.empty())
      return true;
    std::snprintf(e.msg, sizeof e.msg,
                  "%s: csv targets = \"%s\" gives float targets, but model '%s' has %s; "
                  "expected 'label = \"column\"' for class labels",
                  where(g, "targets").c_str(), targets.c_str(), g.modelName.c_str(),
                  g.targets.empty() ? "no target" : "an int target");
    return false;
  }
  if (!targets.empty() && !label.empty()) {
    std::snprintf(e.msg, sizeof e.msg, "%s: csv data takes label (one column) or targets, not both",
                  where(g, "targets").c_str());
    return false;
  }
  // Without `targets`, the label column (or the last) is the one target.
  cols = !targets.empty() ? splitColumns(targets) : std::vector<std::string>{label};
  int64_t want = elements(g.targets[0].shape);
  if (int64_t(cols.size()) != want) {
    std::snprintf(e.msg, sizeof e.msg,
                  "%s: csv data gives %zu target column%s, but model '%s' has target '%s' of %lld "
                  "values per example; expected targets = \"...\" naming %lld columns",
                  where(g, targets.empty() ? "label" : "targets").c_str(), cols.size(),
                  cols.size() == 1 ? "" : "s", g.modelName.c_str(), g.targets[0].name.c_str(),
                  (long long)want, (long long)want);
    return false;
  }
  if (targets.empty())
    cols.clear();
  return true;
}

bool loadTrainingCsv(const dsl::Graph &g, const std::string &path, nnrt_dataset &out,
                     nnrt_error &e) {
  std::vector<std::string> cols;
  if (!targetColumns(g, cols, e))
    return false;
  bool floats = isRegression(g);
  std::string label = dataArg(g, "label");
  std::vector<const char *> names;
  for (const std::string &c : cols)
    names.push_back(c.c_str());
  nnrt_csv_options opt{};
  opt.label_column = label.empty() ? nullptr : label.c_str();
  opt.num_classes = csvClassCount(g);
  opt.targets = names.data();
  opt.num_targets = int(names.size());
  opt.label_is_target = floats && names.empty();
  return nnrt_csv_load_opts(path.c_str(), &opt, &out, &e) == 0;
}

std::vector<std::string> csvTargetColumns(const dsl::Graph &g) {
  std::string targets = dataArg(g, "targets");
  if (!isRegression(g) || targets.empty())
    return {};
  return splitColumns(targets);
}

bool checkDataClasses(const dsl::Graph &g) {
  const dsl::TrainConfig &t = g.train;
  int64_t outputs = csvClassCount(g);
  if (!t.present || t.dataKind != "csv" || t.dataPath.empty() || outputs <= 0 ||
      !dataArg(g, "targets").empty())
    return true;
  std::string label = dataArg(g, "label");
  nnrt_csv_options opt{};
  opt.label_column = label.empty() ? nullptr : label.c_str();
  nnrt_dataset d{};
  nnrt_error e{};
  if (nnrt_csv_load_opts(t.dataPath.c_str(), &opt, &d, &e))
    return true;
  // String labels are classes by name; integer labels are the class ids
  // themselves, so {0, 2} needs 3 outputs.
  int64_t classes = d.num_classes;
  std::string which;
  if (classes > 0) {
    for (int i = 0; i < d.num_classes && i < 10; ++i)
      which += (i ? ", " : "") + std::string(d.class_names[i]);
    which = " (labels sorted: " + which + (d.num_classes > 10 ? ", ..." : "") + ")";
  } else if (d.n > 0 && d.num_fields > 1) {
    const int32_t *y = static_cast<const int32_t *>(d.fields[1].data);
    classes = int64_t(*std::max_element(y, y + d.n)) + 1;
    which = " (integer labels up to " + std::to_string(classes - 1) + ")";
  }
  std::string column = d.label_name ? d.label_name : label;
  nnrt_dataset_free(&d);
  if (classes <= outputs)
    return true;
  dsl::DiagnosticEngine diag(std::cerr);
  std::ifstream in(t.dataLoc.file, std::ios::binary);
  if (in)
    diag.addSource(t.dataLoc.file, std::string(std::istreambuf_iterator<char>(in), {}));
  diag.error(t.dataLoc, "csv data '" + t.dataPath + "' has " + std::to_string(classes) +
                            " classes in column '" + column + "'" + which + " but model '" +
                            g.modelName + "' has " + std::to_string(outputs) +
                            " outputs; expected at most " + std::to_string(outputs) +
                            " classes, or a model with " + std::to_string(classes) + " outputs");
  return false;
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

void printValues(std::FILE *f, const float *v, int64_t n, int64_t k) {
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < k; c++)
      std::fprintf(f, "%.6g%s", v[r * k + c], c + 1 < k ? "," : "\n");
}

} // namespace nnc::tool
