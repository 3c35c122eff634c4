// CmdSummary.cpp: nnc summary: Keras's table of layers, output shapes and
// parameter counts, then the memory and FLOPs the compiler lays out.
#include "CsvData.h"
#include "Driver.h"
#include "Summary.h"
#include "nnc/dsl/Frontend.h"

#include <cstdio>

namespace nnc::tool {

int cmdSummary(const Args &a) {
  auto g = loadGraph(a);
  if (!g || !checkDataClasses(*g))
    return 1;
  auto shape = [](const std::vector<int64_t> &s) {
    std::string r = "(None";
    for (int64_t d : s)
      r += ", " + std::to_string(d);
    return r + ")";
  };
  auto row = [](const std::string &a, const std::string &b, const std::string &c) {
    std::printf(" %-28s %-25s %s\n", a.c_str(), b.c_str(), c.c_str());
  };
  std::string line(65, '_'), dline(65, '=');
  std::printf("Model: \"%s\"\n%s\n", g->modelName.c_str(), line.c_str());
  row("Layer (type)", "Output Shape", "Param #");
  std::printf("%s\n", dline.c_str());
  int64_t total = 0;
  for (const auto &l : g->layers) {
    row(l.name + " (" + l.kind + ")", shape(l.outputShape), std::to_string(l.numParams));
    total += l.numParams;
  }
  for (const dsl::Param *p : modelLevelParams(*g))
    row(p->name + " (param)", paramShape(*p), std::to_string(dsl::numElements(p->shape)));
  int64_t all = 0;
  for (const auto &p : g->params)
    all += dsl::numElements(p.shape);
  std::printf("%s\nTotal params: %lld\nTrainable params: %lld\nNon-trainable "
              "params: 0\n%s\n",
              dline.c_str(), (long long)all, (long long)all, line.c_str());
  (void)total;
  // Memory and FLOPs as the compiler lays them out for the train block's
  // batch (up to the memory plan: no LLVM work).
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  ModelABI abi;
  if (mlir::failed(compileModel(*g, *o, Stage::Buffers, nullptr, nullptr, &abi)))
    return 1;
  printCompiledFacts(abi, *o);
  std::printf("%s\n", line.c_str());
  return 0;
}

} // namespace nnc::tool
