// Lowers nn.optimizer_update: one loop over the parameter whose body is the
// row's update (update_<kind> in OptimizerUpdates.cpp), and the arith
// operators those updates are written with; and nn.global_norm, the norm
// that clips the gradients the updates read.
#include "LoweringUtils.h"
#include "OptimizerUpdates.h"

#include "nnc/Optimizers/Optimizers.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace nnc::nn_to_linalg::optim {

template <typename Op> static X build(X a, X b) {
  return {a.b, a.loc, a.b->create<Op>(a.loc, a.v, b.v)};
}
static X constant(X like, double v) { return {like.b, like.loc, cst(*like.b, like.loc, v)}; }

X operator+(X a, X b) { return build<arith::AddFOp>(a, b); }
X operator-(X a, X b) { return build<arith::SubFOp>(a, b); }
X operator*(X a, X b) { return build<arith::MulFOp>(a, b); }
X operator/(X a, X b) { return build<arith::DivFOp>(a, b); }
X operator+(X a, double b) { return a + constant(a, b); }
X operator-(X a, double b) { return a - constant(a, b); }
X operator*(X a, double b) { return a * constant(a, b); }
X operator/(X a, double b) { return a / constant(a, b); }
X operator+(double a, X b) { return constant(b, a) + b; }
X operator-(double a, X b) { return constant(b, a) - b; }
X operator*(double a, X b) { return constant(b, a) * b; }
X sqrt(X a) { return {a.b, a.loc, a.b->create<math::SqrtOp>(a.loc, a.v)}; }
X pow(double base, X e) {
  return {e.b, e.loc, e.b->create<math::PowFOp>(e.loc, cst(*e.b, e.loc, base), e.v)};
}

double Step::operator[](llvm::StringRef name) const {
  auto v = hyper.getAs<FloatAttr>(name);
  if (!v)
    llvm::report_fatal_error("nn.optimizer_update: no hyperparameter '" + name + "'");
  return v.getValueAsDouble();
}

} // namespace nnc::nn_to_linalg::optim

namespace {

using namespace nnc::nn_to_linalg::optim;

// update_<name> of every row, in the table's order.
const UpdateFn kUpdates[] = {
#define NNC_HYPER(...)
#define NNC_OPTIMIZER(n, ...) &update_##n,
#include "nnc/Optimizers/Optimizers.def"
};
static_assert(std::size(kUpdates) == nnc::optim::kNumOptimizers);

// One loop over the flat buffers, writing the parameter and the state in
// place (they are the generic's outputs, not inputs).
struct LowerOptimizerUpdate : OpRewritePattern<OptimizerUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(OptimizerUpdateOp op, PatternRewriter &r) const override {
    int kind = nnc::optim::optimizerIndex(op.getKind().str());
    if (kind < 0)
      return failure(); // the verifier reports it
    Location loc = op.getLoc();
    Step st(r, loc, op.getHyper(), op.getLr(), op.getStep());
    ElementFn body = kUpdates[kind](st);
    Value scale = op.getGradScale();
    SmallVector<Value> state{op.getParam()};
    state.append(op.getState().begin(), op.getState().end());
    SmallVector<AffineMap> maps(1 + state.size(),
                                AffineMap::getMultiDimIdentityMap(1, r.getContext()));
    auto res = generic(r, loc, op.getGrad(), state, maps, parallel(1),
                       [&](OpBuilder &b, Location l, ValueRange a) {
                         Value g = b.create<arith::MulFOp>(l, a[0], scale);
                         Element e{{&b, l, g}, {}};
                         for (Value s : a.drop_front())
                           e.s.push_back({&b, l, s});
                         SmallVector<Value> out;
                         for (X x : body(e))
                           out.push_back(x.v);
                         b.create<linalg::YieldOp>(l, out);
                       });
    r.replaceOp(op, res);
    return success();
  }
};

// sum(x^2) of one input as a 0-d tensor (addf may reassociate, so the sum
// vectorizes).
Value sumOfSquares(OpBuilder &b, Location loc, Value x) {
  auto flatT = RankedTensorType::get({tensorType(x).getNumElements()}, b.getF32Type());
  return reduceLast(
      b, loc, reshape(b, loc, x, flatT), 0.0f,
      [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return nb.create<arith::MulFOp>(l, a[0], a[0]);
      },
      addf);
}

struct LowerGlobalNorm : OpRewritePattern<GlobalNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GlobalNormOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto scalarT = RankedTensorType::get({}, r.getF32Type());
    Value total = fill(r, loc, scalarT, 0.0f);
    for (Value x : op.getInputs())
      total = elementwise(
          r, loc, scalarT, ValueRange{total, sumOfSquares(r, loc, x)},
          [](OpBuilder &b, Location l, ValueRange a) { return addf(b, l, a[0], a[1]); });
    r.replaceOp(op, elementwise(r, loc, scalarT, total,
                                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                  return b.create<math::SqrtOp>(l, a[0]);
                                }));
    return success();
  }
};

} // namespace

void nnc::nn_to_linalg::populateOptimizerPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerOptimizerUpdate, LowerGlobalNorm>(patterns.getContext());
}
