// The table of optimizers (Optimizers.def) as constexpr data, and what its
// readers share: lookup by name, the names for messages, range checks and
// the values compiled in. Header-only, without MLIR or LLVM, because the
// front end (dsl/) reads it too.
#pragma once

#include <cstddef>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnc::optim {

enum class When { Runtime, Compiled };
enum class Range { Positive, NonNegative, Fraction };

struct Hyperparameter {
  const char *name;
  double value; // the default
  When when;
  Range range;
};

struct Optimizer {
  const char *name;
  const char *summary;
  int stateSlots;
  const Hyperparameter *hyper;
  size_t numHyper;
  const Hyperparameter *begin() const { return hyper; }
  const Hyperparameter *end() const { return hyper + numHyper; }
};

namespace detail {
// One array of hyperparameters per row, named after it (sgdHyper, ...).
#define NNC_HYPER(n, v, w, r) Hyperparameter{#n, v, When::w, Range::r},
#define NNC_OPTIMIZER(n, s, k, hs) inline constexpr Hyperparameter n##Hyper[] = {hs};
#include "nnc/Optimizers/Optimizers.def"
} // namespace detail

inline constexpr Optimizer kOptimizers[] = {
#define NNC_HYPER(n, v, w, r)
#define NNC_OPTIMIZER(n, s, k, hs)                                                                 \
  Optimizer{#n, s, k, detail::n##Hyper, std::size(detail::n##Hyper)},
#include "nnc/Optimizers/Optimizers.def"
};
inline constexpr size_t kNumOptimizers = std::size(kOptimizers);

// The row's index (the model table's `optimizer`), or -1.
constexpr int optimizerIndex(std::string_view name) {
  for (size_t i = 0; i < kNumOptimizers; ++i)
    if (name == kOptimizers[i].name)
      return int(i);
  return -1;
}

inline const Optimizer *findOptimizer(std::string_view name) {
  int i = optimizerIndex(name);
  return i < 0 ? nullptr : &kOptimizers[i];
}

inline const Hyperparameter *findHyper(const Optimizer &o, std::string_view name) {
  for (const Hyperparameter &h : o)
    if (name == h.name)
      return &h;
  return nullptr;
}

inline std::vector<std::string> optimizerNameList() {
  std::vector<std::string> names;
  for (const Optimizer &o : kOptimizers)
    names.push_back(o.name);
  return names;
}

// Joins names for a message: "a, b or c"; with sep = last = "|": "a|b|c".
inline std::string joinNames(const std::vector<std::string> &names, const char *sep = ", ",
                             const char *last = " or ") {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? last : sep) + names[i];
  return s;
}

// Every row's name, "sgd, adam, ... or <the last row>".
inline std::string optimizerNames(const char *sep = ", ", const char *last = " or ") {
  return joinNames(optimizerNameList(), sep, last);
}

inline std::vector<std::string> hyperNameList(const Optimizer &o) {
  std::vector<std::string> names;
  for (const Hyperparameter &h : o)
    names.push_back(h.name);
  return names;
}

// What a value of h must be ("positive", ...), or nullptr when v is one
// (NaN never is).
inline const char *rangeViolation(const Hyperparameter &h, double v) {
  switch (h.range) {
  case Range::Positive:
    return v > 0 ? nullptr : "positive";
  case Range::NonNegative:
    return v >= 0 ? nullptr : "non-negative";
  case Range::Fraction:
    return v >= 0 && v < 1 ? nullptr : "in [0, 1)";
  }
  return nullptr;
}

// The compiled-in hyperparameters of o in table order: `given`'s value,
// else the default. What the generated code depends on, so also what a
// compile cache keys on.
inline std::vector<std::pair<std::string, double>>
compiledValues(const Optimizer &o, const std::map<std::string, double> &given) {
  std::vector<std::pair<std::string, double>> values;
  for (const Hyperparameter &h : o) {
    if (h.when != When::Compiled)
      continue;
    auto it = given.find(h.name);
    values.push_back({h.name, it == given.end() ? h.value : it->second});
  }
  return values;
}

// The default learning rate of `name` (what `nnc train` uses without --lr
// or lr in the train block); 0.001 for a name not in the table.
inline double defaultLearningRate(std::string_view name) {
  if (const Optimizer *o = findOptimizer(name))
    if (const Hyperparameter *h = findHyper(*o, "lr"))
      return h->value;
  return 0.001;
}

} // namespace nnc::optim
