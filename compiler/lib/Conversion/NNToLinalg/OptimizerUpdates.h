// What an optimizer's update is written with. Each row `name` of
// nnc/Optimizers/Optimizers.def has `update_<name>` in OptimizerUpdates.cpp;
// OptimizerLowering.cpp lowers nn.optimizer_update to one loop over the
// parameter and calls it to build the loop's body.
//
// The body is scalar arith on one element, not nn ops on tensors: each
// update keeps several results (the parameter and its state), and
// nnc-fuse-elementwise fuses a producer only into its single consumer and
// never into an op that writes an entry point's argument in place, so nn
// ops would become several loops over memory where one suffices.
#pragma once

#include "mlir/IR/Builders.h"

#include <functional>

namespace nnc::nn_to_linalg::optim {

// One f32 scalar of an update. The operators build arith ops where the
// left operand (or the only X) is built, so a formula reads as written:
// `m = s[1] * b1 + g * (1 - b1)`; a double is an f32 constant.
struct X {
  mlir::OpBuilder *b;
  mlir::Location loc;
  mlir::Value v;
};
X operator+(X a, X b);
X operator-(X a, X b);
X operator*(X a, X b);
X operator/(X a, X b);
X operator+(X a, double b);
X operator-(X a, double b);
X operator*(X a, double b);
X operator/(X a, double b);
X operator+(double a, X b);
X operator-(double a, X b);
X operator*(double a, X b);
X sqrt(X a);
X pow(double base, X exponent);

// The once-per-step part, built before the loop: the compiled-in
// hyperparameters by name, the learning rate and the 1-based step count.
struct Step {
  Step(mlir::OpBuilder &b, mlir::Location loc, mlir::DictionaryAttr hyper, mlir::Value lr,
       mlir::Value step)
      : hyper(hyper), lr{&b, loc, lr}, step{&b, loc, step} {}
  // A compiled-in hyperparameter of the row (the op's verifier checked
  // that it has every one).
  double operator[](llvm::StringRef name) const;

  mlir::DictionaryAttr hyper;
  X lr, step;
};

// One element, in the loop: its gradient, its state (s[0] the parameter,
// then the row's state slots in order), and in(x) to use a value built in
// the Step part (so that arith ops go into the loop, not before it).
struct Element {
  X g;
  llvm::SmallVector<X> s;
  X in(X outer) const { return {g.b, g.loc, outer.v}; }
};

// The new parameter, then the new state slots in order.
using ElementFn = std::function<llvm::SmallVector<X>(const Element &)>;
using UpdateFn = ElementFn (*)(Step &);

#define NNC_HYPER(...)
#define NNC_OPTIMIZER(n, ...) ElementFn update_##n(Step &);
#include "nnc/Optimizers/Optimizers.def"

} // namespace nnc::nn_to_linalg::optim
