#include "NumericHelpers.h"

#include "nnc/dsl/Frontend.h"

#include "llvm/ADT/SmallVector.h"

#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

namespace nnc::numtest {

void *workspace(const nnrt_model *m) {
  static std::vector<float> buffer;
  size_t floats = size_t(m->workspace_bytes + 64) / sizeof(float);
  if (buffer.size() < floats)
    buffer.assign(floats, 0.0f);
  // 64-byte aligned, as the ABI asks: the vector's data is only 16-aligned.
  auto at = (reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t(63);
  return reinterpret_cast<void *>(at);
}

const nnrt_tensor_info &Compiled::tensor(const std::string &name) const {
  for (int i = 0; i < m->num_tensors; ++i)
    if (name == m->tensors[i].name)
      return m->tensors[i];
  throw std::runtime_error("the model table has no tensor '" + name + "'");
}

std::vector<const nnrt_tensor_info *> Compiled::withRole(int role) const {
  std::vector<const nnrt_tensor_info *> out;
  for (int i = 0; i < m->num_tensors; ++i)
    if (m->tensors[i].role == role)
      out.push_back(&m->tensors[i]);
  return out;
}

CodeGenOptions sgdOptions(int64_t batch, float momentum) {
  CodeGenOptions o;
  o.batch = batch;
  o.optimizer.name = "sgd";
  o.optimizer.args["momentum"] = momentum;
  return o;
}

CodeGenOptions adamOptions(int64_t batch, float beta1, float beta2, float epsilon) {
  CodeGenOptions o;
  o.batch = batch;
  o.optimizer.name = "adam";
  o.optimizer.args = {{"beta1", beta1}, {"beta2", beta2}, {"epsilon", epsilon}};
  return o;
}

CodeGenOptions forTestTarget(CodeGenOptions o) {
  if (const char *cpu = std::getenv("NNC_TEST_TARGET_CPU"); cpu && *cpu && o.targetCPU.empty())
    o.targetCPU = cpu;
  return o;
}

static Compiled compileGraph(const std::optional<dsl::Graph> &g, const std::string &what,
                             const std::ostringstream &diags, const CodeGenOptions &given) {
  if (!g)
    throw std::runtime_error("front end rejected " + what + ":\n" + diags.str());
  CodeGenOptions opts = forTestTarget(given);
  llvm::SmallVector<char, 0> obj;
  Compiled c;
  if (mlir::failed(compileModel(*g, opts, Stage::Object, nullptr, &obj, &c.abi)))
    throw std::runtime_error("compileModel failed for " + what + " (see stderr)");
  std::string err;
  c.loaded = loadObject(obj, c.abi.prefix, err);
  if (!c.loaded)
    throw std::runtime_error("loadObject failed for " + what + ": " + err);
  c.m = c.loaded->model();
  if (!c.m || c.m->abi_version != NNRT_ABI_VERSION || c.m->batch != opts.batch)
    throw std::runtime_error("bad model table for " + what);
  return c;
}

Compiled compileSource(const std::string &source, const CodeGenOptions &opts,
                       const std::string &fileName, bool loopRepeats) {
  std::ostringstream diags;
  dsl::DiagnosticEngine diag(diags);
  dsl::FrontendOptions fo;
  fo.stdlibDir = NNC_STDLIB_DIR;
  fo.loopRepeats = loopRepeats;
  auto g = dsl::buildGraphFromSource(source, fileName, fo, diag);
  return compileGraph(g, "source:\n" + source, diags, opts);
}

Compiled compileFile(const std::string &path, const CodeGenOptions &opts) {
  std::ostringstream diags;
  dsl::DiagnosticEngine diag(diags);
  dsl::FrontendOptions fo;
  fo.stdlibDir = NNC_STDLIB_DIR;
  auto g = dsl::buildGraph(path, fo, diag);
  return compileGraph(g, path, diags, opts);
}

std::string sourcePath(const std::string &relative) {
  return std::string(NNC_SOURCE_DIR) + "/" + relative;
}

IOBuffers::IOBuffers(const nnrt_model &m) : weights(size_t(m.batch), 1.0f) {
  for (int i = 0; i < m.num_tensors; ++i) {
    const nnrt_tensor_info &t = m.tensors[i];
    std::vector<Buf> *list = t.role == NNRT_INPUT    ? &inputs
                             : t.role == NNRT_TARGET ? &targets
                             : t.role == NNRT_OUTPUT ? &outputs
                                                     : nullptr;
    if (!list)
      continue;
    Buf b;
    b.dtype = t.dtype;
    size_t n = size_t(t.size * m.batch);
    if (t.dtype == NNRT_I32)
      b.ints.assign(n, 0);
    else
      b.floats.assign(n, 0.0f);
    list->push_back(std::move(b));
  }
}

std::vector<void *> IOBuffers::trainIO() {
  std::vector<void *> io;
  for (Buf &b : inputs)
    io.push_back(b.data());
  for (Buf &b : targets)
    io.push_back(b.data());
  io.push_back(weights.data());
  for (Buf &b : outputs)
    io.push_back(b.data());
  return io;
}

std::vector<void *> IOBuffers::predictIO() {
  std::vector<void *> io;
  for (Buf &b : inputs)
    io.push_back(b.data());
  for (Buf &b : outputs)
    io.push_back(b.data());
  return io;
}

int ioIndex(const Compiled &c, int role, const std::string &name) {
  int k = 0;
  for (const nnrt_tensor_info *t : c.withRole(role)) {
    if (name == t->name)
      return k;
    ++k;
  }
  throw std::runtime_error("no io tensor '" + name + "'");
}

std::vector<double> Ref::input(const std::string &n) const {
  const auto &f = io.inputs[size_t(ioIndex(c, NNRT_INPUT, n))].floats;
  return std::vector<double>(f.begin(), f.end());
}

const std::vector<int32_t> &Ref::ids(const std::string &n) const {
  return io.inputs[size_t(ioIndex(c, NNRT_INPUT, n))].ints;
}

std::vector<double> Ref::param(const std::string &n) const {
  const nnrt_tensor_info &t = c.tensor(n);
  return std::vector<double>(p.begin() + t.offset, p.begin() + t.offset + t.size);
}

std::vector<double> Ref::mm(const std::vector<double> &x, const std::vector<double> &W, size_t K,
                            size_t N) {
  size_t rows = x.size() / K;
  std::vector<double> y(rows * N, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t k = 0; k < K; ++k)
      for (size_t j = 0; j < N; ++j)
        y[r * N + j] += x[r * K + k] * W[k * N + j];
  return y;
}

std::vector<double> Ref::mm(const std::vector<double> &x, const std::string &W) const {
  const nnrt_tensor_info &t = c.tensor(W);
  return mm(x, param(W), size_t(t.shape[0]), size_t(t.shape[1]));
}

std::vector<double> Ref::mm(const std::string &x, const std::string &W) const {
  return mm(input(x), W);
}

Compiled compileWithStep(const std::string &source, const CodeGenOptions &base,
                         const std::string &fileName) {
  auto build = [&](std::map<std::string, int64_t> overrides, bool cacheStep) {
    std::ostringstream diags;
    dsl::DiagnosticEngine diag(diags);
    dsl::FrontendOptions fo;
    fo.stdlibDir = NNC_STDLIB_DIR;
    fo.overrides = std::move(overrides);
    fo.cacheStep = cacheStep;
    auto g = dsl::buildGraphFromSource(source, fileName, fo, diag);
    if (!g)
      throw std::runtime_error("front end rejected " + fileName + ":\n" + diags.str());
    return std::move(*g);
  };
  // Attention steps over a key/value cache; recurrent cells over one time step.
  dsl::Graph g = build({}, false);
  if (!g.usesCache && g.timeParam.empty())
    throw std::runtime_error(fileName + " has neither a time parameter nor a key/value cache");
  dsl::Graph sg = g.usesCache ? build({}, true) : build({{g.timeParam, 1}}, false);
  CodeGenOptions opts = base;
  opts.stepGraph = &sg;
  return compileGraph(std::optional<dsl::Graph>(std::move(g)), fileName, std::ostringstream(),
                      opts);
}

} // namespace nnc::numtest
