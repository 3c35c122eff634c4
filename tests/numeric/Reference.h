// Reference values from an independent framework (tests/numeric/reference/
// *.py wrote them to *.txt; the tests need no Python), and the comparison
// every reference test uses.
//
// File format, one tensor per line (`#` starts a comment line):
//     NAME RANK D0 D1 ... : V0 V1 ...      (values row-major)
#pragma once

#include "NumericHelpers.h"

#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace nnc::numtest {

struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> values;
};

using Reference = std::map<std::string, RefTensor>;

// Throws std::runtime_error on a missing file or a malformed line.
Reference readReference(const std::string &path);

// The tensor `name` of r; throws when there is none.
const RefTensor &refTensor(const Reference &r, const std::string &name);

// got(i) against want.values[i], element by element, within
// tol * (|ref| + scale), where scale is max |ref| of the tensor (at least
// `floor`): ~tol relative, float32 against float64, where the tensor's scale
// keeps values that come out of a cancellation from demanding more than
// float32 can give. `floor` is for tensors that are exactly zero in exact
// arithmetic (the gradient of a bias that softmax cancels).
struct Compare {
  double tol = 1e-5, floor = 0;
  double maxAbs = 0, maxRel = 0;
  int bad = 0;
  std::ostringstream report;
  explicit Compare(double tol = 1e-5, double floor = 0) : tol(tol), floor(floor) {}
  template <typename F> void run(const std::string &what, const RefTensor &want, F got) {
    double scale = floor;
    for (double v : want.values)
      scale = std::max(scale, v < 0 ? -v : v);
    double tMax = 0;
    for (size_t i = 0; i < want.values.size(); ++i) {
      double g = double(got(i)), w = want.values[i], aw = w < 0 ? -w : w;
      double err = g > w ? g - w : w - g;
      maxAbs = std::max(maxAbs, err);
      tMax = std::max(tMax, err / (aw + scale));
      if (!(err <= tol * (aw + scale)) && ++bad <= 16)
        report << "  " << what << "[" << i << "]: nnc " << g << ", reference " << w << "\n";
    }
    maxRel = std::max(maxRel, tMax);
    log(what, tMax, scale);
  }
  void log(const std::string &what, double rel, double scale);
};

// One reference case of a layer or cell applied to an input x: the model
// `source` has inputs x (float) and pos (int) and maybe more float inputs,
// a float target t, a parameter D that is zero and added to x as
// embedding(D, pos) with pos = b * T + t (row b, position t), so that D's
// gradient is d loss / d x, and the output compared as CASE/OUT.
// Parameters come from CASE/params/P (ourName(P) is our name of P) and must
// be all of the model's but D; inputs from CASE/x, CASE/<floatInputs>,
// targets CASE/t, row weights CASE/w. Compared: the output (predict and
// train_step), the loss (eval_step and train_step), every parameter's
// gradient (one SGD train_step with lr = 2^10, as in GradientTests.cpp) and
// CASE/dx, each within Compare(1e-5, floor).
struct LayerCase {
  std::string name;
  std::string source;
  std::string out;
  std::function<std::string(const std::string &)> ourName;
  std::vector<std::string> floatInputs;
  int64_t batch = 4;
  double floor = 0;
};
void runLayerCase(const Reference &ref, const LayerCase &lc);

} // namespace nnc::numtest
