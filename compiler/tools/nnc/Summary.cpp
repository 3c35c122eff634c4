// Summary.cpp: helpers for `nnc summary`'s table.
#include "Summary.h"

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

} // namespace nnc::tool
