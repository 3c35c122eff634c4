// The canonicalization patterns of the nn dialect (NNOps.cpp): JoinSliceGrads
// on nn.add, FlattenConcat on nn.concat and the fold of nn.slice_grad.
// RUN: %nnc-opt %s -split-input-file --canonicalize | FileCheck %s

// Two slice gradients of adjacent ranges, added: one slice gradient of
// their concatenation, at the lower begin.

// CHECK-LABEL: func.func @join_adjacent(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[C:.*]] = nn.concat %[[A]], %[[B]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[G:.*]] = nn.slice_grad %[[C]] {begin = 3 : i64} : tensor<2x6xf32> -> tensor<2x12xf32>
// CHECK-NEXT: return %[[G]]
func.func @join_adjacent(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %a {begin = 3 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.slice_grad %b {begin = 6 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %2 = nn.add %0, %1 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  return %2 : tensor<2x12xf32>
}

// -----

// The higher range on the left: the operands are concatenated in the
// order of their ranges.

// CHECK-LABEL: func.func @join_swapped(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<2x4xf32>)
// CHECK-NEXT: %[[C:.*]] = nn.concat %[[B]], %[[A]] : tensor<2x4xf32>, tensor<2x3xf32> -> tensor<2x7xf32>
// CHECK-NEXT: %[[G:.*]] = nn.slice_grad %[[C]] {begin = 0 : i64} : tensor<2x7xf32> -> tensor<2x12xf32>
// CHECK-NEXT: return %[[G]]
func.func @join_swapped(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %a {begin = 4 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.slice_grad %b {begin = 0 : i64} : tensor<2x4xf32> -> tensor<2x12xf32>
  %2 = nn.add %0, %1 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  return %2 : tensor<2x12xf32>
}

// -----

// The four gate gradients of an LSTM (the backward of nn.slice of the joined
// gate product), summed in a chain: the joins repeat, the nested concats
// flatten, and the slice gradient of the full width folds away, leaving
// one nn.concat.

// CHECK-LABEL: func.func @join_four_gates(
// CHECK-SAME: %[[F:[a-z0-9]+]]: tensor<2x3xf32>, %[[I:[a-z0-9]+]]: tensor<2x3xf32>, %[[G:[a-z0-9]+]]: tensor<2x3xf32>, %[[O:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[C:.*]] = nn.concat %[[F]], %[[I]], %[[G]], %[[O]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x12xf32>
// CHECK-NEXT: return %[[C]]
func.func @join_four_gates(%f: tensor<2x3xf32>, %i: tensor<2x3xf32>, %g: tensor<2x3xf32>,
                           %o: tensor<2x3xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %f {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.slice_grad %i {begin = 3 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %2 = nn.slice_grad %g {begin = 6 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %3 = nn.slice_grad %o {begin = 9 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %4 = nn.add %0, %1 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  %5 = nn.add %4, %2 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  %6 = nn.add %5, %3 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  return %6 : tensor<2x12xf32>
}

// -----

// The same four summed as a tree, in any order.

// CHECK-LABEL: func.func @join_four_tree(
// CHECK-SAME: %[[F:[a-z0-9]+]]: tensor<2x3xf32>, %[[I:[a-z0-9]+]]: tensor<2x3xf32>, %[[G:[a-z0-9]+]]: tensor<2x3xf32>, %[[O:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[C:.*]] = nn.concat %[[F]], %[[I]], %[[G]], %[[O]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x12xf32>
// CHECK-NEXT: return %[[C]]
func.func @join_four_tree(%f: tensor<2x3xf32>, %i: tensor<2x3xf32>, %g: tensor<2x3xf32>,
                          %o: tensor<2x3xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %f {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.slice_grad %i {begin = 3 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %2 = nn.slice_grad %g {begin = 6 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %3 = nn.slice_grad %o {begin = 9 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %4 = nn.add %3, %2 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  %5 = nn.add %1, %0 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  %6 = nn.add %5, %4 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  return %6 : tensor<2x12xf32>
}

// -----

// Ranges that do not touch (a gap) or that overlap are left alone.

// CHECK-LABEL: func.func @not_adjacent(
// CHECK-NOT: nn.concat
// CHECK: %[[X:.*]] = nn.slice_grad %{{.*}} {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
// CHECK-NEXT: %[[Y:.*]] = nn.slice_grad %{{.*}} {begin = 6 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
// CHECK-NEXT: %[[S:.*]] = nn.add %[[X]], %[[Y]] : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
// CHECK-NEXT: %[[Z:.*]] = nn.slice_grad %{{.*}} {begin = 2 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
// CHECK-NEXT: %[[T:.*]] = nn.add %[[X]], %[[Z]] : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
// CHECK-NEXT: return %[[S]], %[[T]]
func.func @not_adjacent(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %c: tensor<2x3xf32>)
    -> (tensor<2x12xf32>, tensor<2x12xf32>) {
  %0 = nn.slice_grad %a {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.slice_grad %b {begin = 6 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %gap = nn.add %0, %1 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  %2 = nn.slice_grad %c {begin = 2 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %overlap = nn.add %0, %2 : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  return %gap, %overlap : tensor<2x12xf32>, tensor<2x12xf32>
}

// -----

// An add that broadcasts one of the slice gradients is not a join.

// CHECK-LABEL: func.func @broadcasting_add(
// CHECK-NOT: nn.concat
// CHECK: nn.add %{{.*}}, %{{.*}} : tensor<2x12xf32>, tensor<1x12xf32> -> tensor<2x12xf32>
func.func @broadcasting_add(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %a {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.slice_grad %b {begin = 3 : i64} : tensor<1x3xf32> -> tensor<1x12xf32>
  %2 = nn.add %0, %1 : tensor<2x12xf32>, tensor<1x12xf32> -> tensor<2x12xf32>
  return %2 : tensor<2x12xf32>
}

// -----

// An add of a slice gradient and something else is not a join either.

// CHECK-LABEL: func.func @add_other(
// CHECK-NOT: nn.concat
// CHECK: nn.slice_grad
// CHECK-NEXT: nn.add
func.func @add_other(%a: tensor<2x3xf32>, %b: tensor<2x12xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %a {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %1 = nn.add %0, %b : tensor<2x12xf32>, tensor<2x12xf32> -> tensor<2x12xf32>
  return %1 : tensor<2x12xf32>
}

// -----

// A slice gradient as wide as its input is its input.

// CHECK-LABEL: func.func @full_width(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<2x3x4xf32>)
// CHECK-NOT: nn.slice_grad
// CHECK: return %[[A]], %[[B]]
func.func @full_width(%a: tensor<2x3xf32>, %b: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3x4xf32>) {
  %0 = nn.slice_grad %a {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = nn.slice_grad %b {begin = 0 : i64} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3x4xf32>
}

// -----

// A narrower slice gradient stays.

// CHECK-LABEL: func.func @not_full_width(
// CHECK: nn.slice_grad %{{.*}} {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x4xf32>
func.func @not_full_width(%a: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %0 = nn.slice_grad %a {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Nested concats flatten into one, on either side and at any depth.

// CHECK-LABEL: func.func @flatten(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x1xf32>, %[[B:[a-z0-9]+]]: tensor<2x2xf32>, %[[C:[a-z0-9]+]]: tensor<2x3xf32>, %[[D:[a-z0-9]+]]: tensor<2x4xf32>)
// CHECK-NEXT: %[[R:.*]] = nn.concat %[[A]], %[[B]], %[[C]] : tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[L:.*]] = nn.concat %[[A]], %[[B]], %[[C]] : tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[DEEP:.*]] = nn.concat %[[D]], %[[A]], %[[B]], %[[C]], %[[D]] : tensor<2x4xf32>, tensor<2x1xf32>, tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x14xf32>
// CHECK-NEXT: return %[[R]], %[[L]], %[[DEEP]]
func.func @flatten(%a: tensor<2x1xf32>, %b: tensor<2x2xf32>, %c: tensor<2x3xf32>, %d: tensor<2x4xf32>)
    -> (tensor<2x6xf32>, tensor<2x6xf32>, tensor<2x14xf32>) {
  %bc = nn.concat %b, %c : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x5xf32>
  %right = nn.concat %a, %bc : tensor<2x1xf32>, tensor<2x5xf32> -> tensor<2x6xf32>
  %ab = nn.concat %a, %b : tensor<2x1xf32>, tensor<2x2xf32> -> tensor<2x3xf32>
  %left = nn.concat %ab, %c : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x6xf32>
  %deep = nn.concat %d, %left, %d : tensor<2x4xf32>, tensor<2x6xf32>, tensor<2x4xf32> -> tensor<2x14xf32>
  return %right, %left, %deep : tensor<2x6xf32>, tensor<2x6xf32>, tensor<2x14xf32>
}

// -----

// An inner concat that is used elsewhere too is flattened into its user
// and kept for the other use.

// CHECK-LABEL: func.func @flatten_shared(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x3x1xf32>, %[[B:[a-z0-9]+]]: tensor<2x3x2xf32>)
// CHECK-DAG: %[[AB:.*]] = nn.concat %[[A]], %[[B]] : tensor<2x3x1xf32>, tensor<2x3x2xf32> -> tensor<2x3x3xf32>
// CHECK-DAG: %[[ABA:.*]] = nn.concat %[[A]], %[[B]], %[[A]] : tensor<2x3x1xf32>, tensor<2x3x2xf32>, tensor<2x3x1xf32> -> tensor<2x3x4xf32>
// CHECK: return %[[AB]], %[[ABA]]
func.func @flatten_shared(%a: tensor<2x3x1xf32>, %b: tensor<2x3x2xf32>)
    -> (tensor<2x3x3xf32>, tensor<2x3x4xf32>) {
  %ab = nn.concat %a, %b : tensor<2x3x1xf32>, tensor<2x3x2xf32> -> tensor<2x3x3xf32>
  %aba = nn.concat %ab, %a : tensor<2x3x3xf32>, tensor<2x3x1xf32> -> tensor<2x3x4xf32>
  return %ab, %aba : tensor<2x3x3xf32>, tensor<2x3x4xf32>
}

// -----

// Concats and slice gradients along different axes are not merged: the
// patterns check the axis (issue 4).

// CHECK-LABEL: func.func @axes_differ(
// CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x6x4xf32>
// CHECK: nn.concat %{{.*}}, %{{.*}} : tensor<2x6x4xf32>, tensor<2x6x4xf32> -> tensor<2x6x8xf32>
// CHECK: nn.slice_grad %{{.*}} {axis = 1 : i64, begin = 0 : i64} : tensor<2x2x4xf32> -> tensor<2x4x4xf32>
// CHECK: nn.slice_grad %{{.*}} {begin = 2 : i64} : tensor<2x4x2xf32> -> tensor<2x4x4xf32>
// CHECK: nn.add
func.func @axes_differ(%a: tensor<2x3x4xf32>, %x: tensor<2x2x4xf32>, %y: tensor<2x4x2xf32>) -> (tensor<2x6x8xf32>, tensor<2x4x4xf32>) {
  %0 = nn.concat %a, %a {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x6x4xf32>
  %1 = nn.concat %0, %0 : tensor<2x6x4xf32>, tensor<2x6x4xf32> -> tensor<2x6x8xf32>
  // [0, 2) on axis 1 and [2, 4) on axis 2 look adjacent but are not.
  %2 = nn.slice_grad %x {begin = 0 : i64, axis = 1 : i64} : tensor<2x2x4xf32> -> tensor<2x4x4xf32>
  %3 = nn.slice_grad %y {begin = 2 : i64} : tensor<2x4x2xf32> -> tensor<2x4x4xf32>
  %4 = nn.add %2, %3 : tensor<2x4x4xf32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
  return %1, %4 : tensor<2x6x8xf32>, tensor<2x4x4xf32>
}

// -----

// Along the same non-last axis they are: concat(concat(a, b), c) on axis 1
// is one concat, and adjacent slice gradients on axis 1 join.

// CHECK-LABEL: func.func @same_axis(
// CHECK-NEXT: %[[C:.*]] = nn.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x9x4xf32>
// CHECK-NEXT: %[[J:.*]] = nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x6x4xf32>
// CHECK-NEXT: %[[G:.*]] = nn.slice_grad %[[J]] {axis = 1 : i64, begin = 1 : i64} : tensor<2x6x4xf32> -> tensor<2x8x4xf32>
// CHECK-NEXT: return %[[C]], %[[G]]
func.func @same_axis(%a: tensor<2x3x4xf32>, %b: tensor<2x3x4xf32>) -> (tensor<2x9x4xf32>, tensor<2x8x4xf32>) {
  %0 = nn.concat %a, %b {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x6x4xf32>
  %1 = nn.concat %0, %a {axis = 1 : i64} : tensor<2x6x4xf32>, tensor<2x3x4xf32> -> tensor<2x9x4xf32>
  %2 = nn.slice_grad %a {begin = 1 : i64, axis = 1 : i64} : tensor<2x3x4xf32> -> tensor<2x8x4xf32>
  %3 = nn.slice_grad %b {begin = 4 : i64, axis = 1 : i64} : tensor<2x3x4xf32> -> tensor<2x8x4xf32>
  %4 = nn.add %2, %3 : tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return %1, %4 : tensor<2x9x4xf32>, tensor<2x8x4xf32>
}
