// The optimizers' updates, one function per row of
// nnc/Optimizers/Optimizers.def (update_<name>), in the row's order of
// hyperparameters and state slots. Each builds its once-per-step values
// from `st` and returns the update of one element (OptimizerUpdates.h).
#include "OptimizerUpdates.h"

namespace nnc::nn_to_linalg::optim {

// v' = momentum v - lr g; p' = p + v'.
ElementFn update_sgd(Step &st) {
  double mom = st["momentum"];
  X lr = st.lr;
  return [=](const Element &e) -> llvm::SmallVector<X> {
    X v = e.s[1] * mom - e.g * e.in(lr);
    return {e.s[0] + v, v};
  };
}

// m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2;
// p' = p - lr (m' / (1-b1^t)) / (sqrt(v' / (1-b2^t)) + eps).
ElementFn update_adam(Step &st) {
  double b1 = st["beta1"], b2 = st["beta2"], eps = st["epsilon"];
  X bc1 = 1.0 - pow(b1, st.step), bc2 = 1.0 - pow(b2, st.step);
  X lr = st.lr;
  return [=](const Element &e) -> llvm::SmallVector<X> {
    X m = e.s[1] * b1 + e.g * (1 - b1);
    X v = e.s[2] * b2 + (e.g * e.g) * (1 - b2);
    X den = sqrt(v / e.in(bc2)) + eps;
    return {e.s[0] - e.in(lr) * ((m / e.in(bc1)) / den), m, v};
  };
}

// s' = rho s + (1-rho) g^2; v' = momentum v + lr g / (sqrt(s') + eps); p' = p - v'.
ElementFn update_rmsprop(Step &st) {
  double rho = st["rho"], eps = st["epsilon"], mom = st["momentum"];
  X lr = st.lr;
  return [=](const Element &e) -> llvm::SmallVector<X> {
    X ms = e.s[1] * rho + (e.g * e.g) * (1 - rho);
    X v = e.s[2] * mom + (e.in(lr)*e.g) / (sqrt(ms) + eps);
    return {e.s[0] - v, ms, v};
  };
}

// torch.optim.SGD(momentum, nesterov=True), dampening 0:
// b' = momentum b + g; p' = p - lr (g + momentum b').
ElementFn update_nesterov(Step &st) {
  double mom = st["momentum"];
  X lr = st.lr;
  return [=](const Element &e) -> llvm::SmallVector<X> {
    X buf = e.s[1] * mom + e.g;
    return {e.s[0] - e.in(lr) * (e.g + buf * mom), buf};
  };
}

// torch.optim.AdamW: p' = p (1 - lr wd), then Adam's step in torch's form,
// p' -= (lr / (1-b1^t)) m' / (sqrt(v') / sqrt(1-b2^t) + eps).
ElementFn update_adamw(Step &st) {
  double b1 = st["beta1"], b2 = st["beta2"], eps = st["epsilon"], wd = st["weight_decay"];
  X decay = 1.0 - st.lr * wd;
  X stepSize = st.lr / (1.0 - pow(b1, st.step));
  X bc2Sqrt = sqrt(1.0 - pow(b2, st.step));
  return [=](const Element &e) -> llvm::SmallVector<X> {
    X m = e.s[1] * b1 + e.g * (1 - b1);
    X v = e.s[2] * b2 + (e.g * e.g) * (1 - b2);
    X den = sqrt(v) / e.in(bc2Sqrt) + eps;
    return {e.s[0] * e.in(decay)-e.in(stepSize) * (m / den), m, v};
  };
}

} // namespace nnc::nn_to_linalg::optim
