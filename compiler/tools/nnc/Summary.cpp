// Summary.cpp: helpers for `nnc summary`'s table.
#include "Summary.h"

#include <algorithm>
#include <cstdio>

namespace nnc::tool {

std::vector<const dsl::Param *> modelLevelParams(const dsl::Graph &g) {
  std::vector<const dsl::Param *> out;
  for (const dsl::Param &p : g.params) {
    // A layer's parameters are named under it: "h1.W" belongs to row "h1".
    bool inLayer = false;
    for (const auto &l : g.layers)
      inLayer = inLayer || p.name.compare(0, l.name.size() + 1, l.name + ".") == 0;
    if (!inLayer)
      out.push_back(&p);
  }
  return out;
}

std::string paramShape(const dsl::Param &p) {
  std::string dims;
  for (int64_t d : p.shape)
    dims += (dims.empty() ? "[" : ", ") + std::to_string(d);
  return dims.empty() ? "[]" : dims + "]";
}

// 1234567 -> "1.23M" (as Keras prints sizes: k, M, G).
static std::string humanCount(double n) {
  const char *units[] = {"", "k", "M", "G", "T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.3g%s" : "%.0f%s", n, units[u]);
  return buf;
}

void printCompiledFacts(const ModelABI &abi, const CodeGenOptions &opts) {
  double batch = double(std::max<int64_t>(1, opts.batch));
  std::printf("Memory at batch %lld: parameters %sB, optimizer state %sB (%s), workspace %sB\n",
              (long long)opts.batch, humanCount(4.0 * double(abi.numParams)).c_str(),
              humanCount(4.0 * double(abi.optStateSize)).c_str(), opts.optimizer.name.c_str(),
              humanCount(double(abi.workspaceBytes)).c_str());
  std::printf("FLOPs per example (matrix products): forward %s, training step %s\n",
              humanCount(double(abi.predictFlops) / batch).c_str(),
              humanCount(double(abi.trainFlops) / batch).c_str());
}

} // namespace nnc::tool
