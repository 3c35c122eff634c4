// Reference values from an independent framework (tests/numeric/reference/
// *.py wrote them to *.txt; the tests need no Python), and the comparison
// every reference test uses.
//
// File format, one tensor per line (`#` starts a comment line):
//     NAME RANK D0 D1 ... : V0 V1 ...      (values row-major)
#pragma once

#include <cstdint>
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

} // namespace nnc::numtest
