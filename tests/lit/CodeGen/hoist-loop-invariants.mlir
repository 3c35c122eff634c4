// RUN: %nnc-opt %s -split-input-file --nnc-hoist-loop-invariants | FileCheck %s
// RUN: %nnc-opt %s -split-input-file --nnc-hoist-loop-invariants | %nnc-opt -split-input-file -verify-each
// RUN: %nnc-opt %s -split-input-file --convert-nn-to-linalg --nnc-hoist-loop-invariants | FileCheck %s --check-prefix=LOWER

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// A backward time loop: W^T (a linalg.generic transposing a function
// argument into a tensor.empty) is the same at every step and moves before
// the loop with its tensor.empty and the constant; so does the zero fill of
// the product's destination (a constant into a tensor.empty). The slice at
// the induction variable, the products with the carried gradient and what
// reads them stay.

// CHECK-LABEL: func.func @transpose_weight(
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x7xf32>, %[[DH0:[a-z0-9]+]]: tensor<2x7xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x3xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[E:.*]] = tensor.empty() : tensor<7x3xf32>
// CHECK: %[[WT:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[W]] : tensor<3x7xf32>) outs(%[[E]] : tensor<7x3xf32>)
// CHECK: %[[EM:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[Z:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EM]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[DH:.*]] = %[[DH0]]) -> (tensor<2x7xf32>) {
// CHECK-NOT: tensor.empty() : tensor<7x3xf32>
// CHECK-NOT: ins(%[[W]] :
// CHECK: %[[X:.*]] = tensor.extract_slice %[[XS]][0, %[[T]], 0] [2, 1, 3] [1, 1, 1]
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[DH]], %[[WT]] : tensor<2x7xf32>, tensor<7x3xf32>) outs(%[[Z]] : tensor<2x3xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[P]], %[[X]] : tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: scf.yield
func.func @transpose_weight(%w: tensor<3x7xf32>, %dh0: tensor<2x7xf32>, %xs: tensor<2x3x3xf32>)
    -> tensor<2x7xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %t = %c0 to %c3 step %c1 iter_args(%dh = %dh0) -> (tensor<2x7xf32>) {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<7x3xf32>
    %wt = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
        ins(%w : tensor<3x7xf32>) outs(%e : tensor<7x3xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<7x3xf32>
    %x = tensor.extract_slice %xs[0, %t, 0] [2, 1, 3] [1, 1, 1] : tensor<2x3x3xf32> to tensor<2x3xf32>
    %em = tensor.empty() : tensor<2x3xf32>
    %z = linalg.fill ins(%zero : f32) outs(%em : tensor<2x3xf32>) -> tensor<2x3xf32>
    %p = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%dh, %wt : tensor<2x7xf32>, tensor<7x3xf32>) outs(%z : tensor<2x3xf32>) {
    ^bb0(%in: f32, %in2: f32, %out: f32):
      %m = arith.mulf %in, %in2 : f32
      %s = arith.addf %out, %m : f32
      linalg.yield %s : f32
    } -> tensor<2x3xf32>
    %q = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%p, %x : tensor<2x3xf32>, tensor<2x3xf32>) outs(%em : tensor<2x3xf32>) {
    ^bb0(%in: f32, %in2: f32, %out: f32):
      %m = arith.mulf %in, %in2 : f32
      linalg.yield %m : f32
    } -> tensor<2x3xf32>
    %back = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%q, %w : tensor<2x3xf32>, tensor<3x7xf32>) outs(%dh : tensor<2x7xf32>) {
    ^bb0(%in: f32, %in2: f32, %out: f32):
      %m = arith.mulf %in, %in2 : f32
      %s = arith.addf %out, %m : f32
      linalg.yield %s : f32
    } -> tensor<2x7xf32>
    scf.yield %back : tensor<2x7xf32>
  }
  return %r : tensor<2x7xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>

// Nested loops: what depends on the outer induction variable leaves the
// inner loop but not the outer one; what depends on neither leaves both.

// CHECK-LABEL: func.func @nested(
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3x7xf32>, %[[XS:[a-z0-9]+]]: tensor<4x3x7xf32>, %[[ACC0:[a-z0-9]+]]: tensor<7x3xf32>)
// CHECK: %[[WT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<3x7xf32>)
// CHECK: scf.for %[[I:.*]] = {{.*}} iter_args(%[[A:.*]] = %[[ACC0]])
// CHECK-NEXT: %[[X:.*]] = tensor.extract_slice %[[XS]][%[[I]], 0, 0] [1, 3, 7] [1, 1, 1]
// CHECK-NEXT: %[[XT:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<3x7xf32>)
// CHECK: scf.for %{{.*}} = {{.*}} iter_args(%[[B:.*]] = %[[A]])
// CHECK-NEXT: %[[S:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[WT]], %[[XT]] : tensor<7x3xf32>, tensor<7x3xf32>, tensor<7x3xf32>)
// CHECK: scf.yield %[[S]]
// CHECK: scf.yield
func.func @nested(%w: tensor<3x7xf32>, %xs: tensor<4x3x7xf32>, %acc0: tensor<7x3xf32>) -> tensor<7x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%a = %acc0) -> (tensor<7x3xf32>) {
    %r2 = scf.for %j = %c0 to %c2 step %c1 iter_args(%b = %a) -> (tensor<7x3xf32>) {
      %e = tensor.empty() : tensor<7x3xf32>
      %wt = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
          ins(%w : tensor<3x7xf32>) outs(%e : tensor<7x3xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<7x3xf32>
      %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 7] [1, 1, 1] : tensor<4x3x7xf32> to tensor<3x7xf32>
      %xt = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
          ins(%x : tensor<3x7xf32>) outs(%e : tensor<7x3xf32>) {
      ^bb0(%in: f32, %out: f32):
        linalg.yield %in : f32
      } -> tensor<7x3xf32>
      %s = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%b, %wt, %xt : tensor<7x3xf32>, tensor<7x3xf32>, tensor<7x3xf32>) outs(%e : tensor<7x3xf32>) {
      ^bb0(%in: f32, %in2: f32, %in3: f32, %out: f32):
        %m = arith.mulf %in2, %in3 : f32
        %s0 = arith.addf %in, %m : f32
        linalg.yield %s0 : f32
      } -> tensor<7x3xf32>
      scf.yield %s : tensor<7x3xf32>
    }
    scf.yield %r2 : tensor<7x3xf32>
  }
  return %r : tensor<7x3xf32>
}

// -----

// Ops that are not pure tensor computations stay in the loop even when
// their operands are defined outside it: a linalg op on a buffer (it
// writes memory) and a call.

func.func private @effect(tensor<3xf32>) -> tensor<3xf32>

// CHECK-LABEL: func.func @not_pure(
// CHECK-SAME: %[[M:[a-z0-9]+]]: memref<3xf32>, %[[V:[a-z0-9]+]]: tensor<3xf32>)
// CHECK: scf.for
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[M]] : memref<3xf32>)
// CHECK-NEXT: %[[C:.*]] = func.call @effect(%[[V]])
// CHECK-NEXT: scf.yield %[[C]]
func.func @not_pure(%m: memref<3xf32>, %v: tensor<3xf32>) -> tensor<3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %one = arith.constant 1.0 : f32
  %r = scf.for %t = %c0 to %c3 step %c1 iter_args(%acc = %v) -> (tensor<3xf32>) {
    linalg.fill ins(%one : f32) outs(%m : memref<3xf32>)
    %c = func.call @effect(%v) : (tensor<3xf32>) -> tensor<3xf32>
    scf.yield %c : tensor<3xf32>
  }
  return %r : tensor<3xf32>
}

// -----

// The same from nn: the reverse scan of backpropagation through time
// multiplies by W^T (nn.matmul {transpose_b}); its lowering materialises
// the transpose inside the time loop, and the pass takes it out.

// LOWER-LABEL: func.func @bptt(
// LOWER-SAME: %[[DH0:[a-z0-9]+]]: tensor<2x3xf32>, %[[DS:[a-z0-9]+]]: tensor<2x3x3xf32>, %[[W:[a-z0-9]+]]: tensor<7x3xf32>)
// LOWER: %[[E:.*]] = tensor.empty() : tensor<3x7xf32>
// LOWER-NEXT: %[[WT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<7x3xf32>) outs(%[[E]] : tensor<3x7xf32>)
// LOWER: scf.for %[[I:.*]] = {{.*}} iter_args(%[[DH:.*]] = %{{.*}}) -> (tensor<2x3xf32>) {
// LOWER-NEXT: %[[T:.*]] = arith.subi %{{.*}}, %[[I]] : index
// LOWER-NEXT: %[[D:.*]] = tensor.extract_slice %[[DS]][0, %[[T]], 0]
// LOWER-NEXT: %[[G:.*]] = linalg.generic {{.*}} ins(%[[DH]], %[[D]] :
// LOWER-NOT: ins(%[[W]]
// LOWER: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[G]], %[[WT]] : tensor<2x3xf32>, tensor<3x7xf32>)
// LOWER-NOT: ins(%[[W]]
// LOWER: scf.yield
func.func @bptt(%dh0: tensor<2x3xf32>, %ds: tensor<2x3x3xf32>, %w: tensor<7x3xf32>) -> tensor<2x3xf32> {
  %r = nn.scan inits(%dh0) sequences(%ds) captures(%w) {reverse}
      : (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<7x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%dh: tensor<2x3xf32>, %d: tensor<2x3xf32>, %wa: tensor<7x3xf32>):
    %g = nn.add %dh, %d : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %dz = nn.matmul %g, %wa {transpose_b} : tensor<2x3xf32>, tensor<7x3xf32> -> tensor<2x7xf32>
    %dhp = nn.slice %dz {begin = 0 : i64} : tensor<2x7xf32> -> tensor<2x3xf32>
    nn.yield %dhp : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}
