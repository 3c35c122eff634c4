// The gradient check of GradientTests.cpp as a shared helper, for the tests
// of sequences and recurrent cells (RecurrentGradientTests.cpp): the same
// method and tolerances (see the comment at the top of GradientTests.cpp),
// plus what those models need: a prelude before the model (imports, cells of
// the test's own), int inputs (token ids) drawn from a range or set per row,
// and the analytic gradient handed back to the caller.
//
// Method, in short: one SGD train_step with lr = 2^10 gives the analytic
// gradient (p - p') / lr; the numeric gradient of every parameter element is
// a central difference of eval_step's loss with Richardson extrapolation over
// h = 2e-2 and h/2; |analytic - numeric| <= 1e-4 * max(1, |L|) +
// 2e-3 * |numeric|, and every parameter tensor must carry a real gradient
// (max |numeric| >= 1e-2) for the check to mean something.
#pragma once

#include "NumericHelpers.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace nnc::numtest {

using Range = std::pair<double, double>;

struct GradCase {
  std::string name;
  std::string prelude;                     // text before "model NAME {" (imports, cells, layers)
  std::string body;                        // the model's body; the header "model NAME {" is added
  std::map<std::string, Range> paramRange; // default: defaultParamRange
  Range defaultParamRange{-0.5, 0.5};
  std::map<std::string, Range> inputRange; // float inputs, default [-1, 1]
  // int inputs: ids drawn uniformly from [first, second), default [0, numClasses)
  std::map<std::string, std::pair<int, int>> idRange;
  Range targetRange{-0.5, 0.5};
  int numClasses = 3;                     // int targets: labels in [0, numClasses)
  std::vector<float> weights{1, 1, 1, 1}; // one per row: its size is the batch
  // Called after each row's inputs and targets are drawn (to place given ids).
  std::function<void(const Compiled &, IOBuffers &, int64_t row)> adjustRow;
  // Expected forward outputs (output name -> all rows), in double (optional).
  std::function<std::map<std::string, std::vector<double>>(const Compiled &, IOBuffers &,
                                                           const std::vector<float> &)>
      expectedOutputs;
  // Expected loss from the forward outputs, in double (optional).
  std::function<double(const Compiled &, IOBuffers &, const std::vector<float> &)> expectedLoss;
  // Parameters whose gradient is exactly 0 by construction (no minimum).
  std::vector<std::string> zeroGradParams;
  // When > 0: the data (parameters, inputs, targets) are the first of this
  // many draws of a fixed sequence in which every parameter tensor (but
  // zeroGradParams) has max |analytic gradient| >= 1.5e-2, so that the
  // check (which needs max |numeric| >= 1e-2) means something for every
  // gate of a cell. If no draw does, the first is checked (and fails).
  int searchDraws = 0;
};

struct GradCheckResult {
  double loss = 0;
  std::vector<float> params;              // the point of the check
  std::vector<double> grad;               // analytic, laid out like the parameters
  std::vector<double> numeric;            // numeric, likewise
  std::map<std::string, int64_t> offsets; // each parameter's first element
};

// Runs the check with Catch2 assertions; returns what it computed.
GradCheckResult runGradCheck(const GradCase &gc);

// Model name for a case name ("lstm_seq" -> "GLstmSeq").
std::string gradModelName(const std::string &caseName);

} // namespace nnc::numtest
