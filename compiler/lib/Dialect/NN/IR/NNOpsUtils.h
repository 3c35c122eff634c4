// What the files of the nn ops' verifiers and vector-Jacobian products share.
#pragma once

#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/dsl/Shapes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

#include <string>

namespace nnc::nn::detail {

inline std::string shapeStr(llvm::ArrayRef<int64_t> s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return v.getType().cast<mlir::RankedTensorType>();
}

// A tensor of `like`'s type with every element `v` (for vector-Jacobian
// products).
inline mlir::Value constantLike(mlir::OpBuilder &b, mlir::Location loc, mlir::Value like, float v) {
  return b.create<ConstantOp>(loc, like.getType(), b.getF32FloatAttr(v));
}

// An f32 scalar constant (for the scalar bodies of elementwise ops).
inline mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc, double v) {
  return b.create<mlir::arith::ConstantOp>(loc, b.getF32FloatAttr(float(v)));
}

// `from` can be broadcast to `to` (the front end's rule, Shapes.h).
inline bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to) {
  return dsl::broadcastsTo({from.data(), from.size()}, {to.data(), to.size()});
}

// C = op_a(A) op_b(B): dop_a(A) = dC op_b(B)^T, dop_b(B) = op_a(A)^T dC,
// each written as one product with transpose flags instead of a transpose
// (for nn.batch_matmul, per leading index).
template <typename MM>
llvm::SmallVector<mlir::Value> productVJP(MM op, mlir::OpBuilder &b, mlir::Value dc) {
  mlir::Value a = op.getLhs(), bm = op.getRhs();
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  mlir::Location loc = op.getLoc();
  auto mm = [&](mlir::Value x, mlir::Value y, bool tx, bool ty, mlir::Type t) -> mlir::Value {
    auto p = b.create<MM>(loc, t, x, y);
    if (tx)
      p.setTransposeA(true);
    if (ty)
      p.setTransposeB(true);
    return p;
  };
  mlir::Value da = ta ? mm(bm, dc, tb, true, a.getType()) : mm(dc, bm, false, !tb, a.getType());
  mlir::Value db = tb ? mm(dc, a, true, ta, bm.getType()) : mm(a, dc, !ta, false, bm.getType());
  return {da, db};
}

} // namespace nnc::nn::detail
