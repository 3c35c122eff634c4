// RUN: %nnc-opt %s -split-input-file --nn-fuse-scan-matmuls | FileCheck %s
// RUN: %nnc-opt %s -split-input-file --nn-fuse-scan-matmuls | %nnc-opt -split-input-file -verify-each

// An LSTM step: four products of concat(h, x) with the captured gate
// matrices, each followed by the add of its captured bias. The matrices are
// joined into one [7, 12] nn.concat before the scan, the biases into one
// [12]; inside, one nn.matmul, one nn.add and four nn.slice (in the gates'
// order) replace them, and the eight old captures are dropped.

// CHECK-LABEL: func.func @lstm(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[C0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>,
// CHECK-SAME: %[[WF:[a-z0-9]+]]: tensor<7x3xf32>, %[[BF:[a-z0-9]+]]: tensor<3xf32>, %[[WI:[a-z0-9]+]]: tensor<7x3xf32>, %[[BI:[a-z0-9]+]]: tensor<3xf32>,
// CHECK-SAME: %[[WC:[a-z0-9]+]]: tensor<7x3xf32>, %[[BC:[a-z0-9]+]]: tensor<3xf32>, %[[WO:[a-z0-9]+]]: tensor<7x3xf32>, %[[BO:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-NEXT: %[[W:.*]] = nn.concat %[[WF]], %[[WI]], %[[WC]], %[[WO]] : tensor<7x3xf32>, tensor<7x3xf32>, tensor<7x3xf32>, tensor<7x3xf32> -> tensor<7x12xf32>
// CHECK-NEXT: %[[B:.*]] = nn.concat %[[BF]], %[[BI]], %[[BC]], %[[BO]] : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32> -> tensor<12xf32>
// CHECK-NEXT: %[[R:.*]]:3 = nn.scan inits(%[[H0]], %[[C0]]) sequences(%[[XS]]) captures(%[[W]], %[[B]]) : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x12xf32>, tensor<12xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
// CHECK-NEXT: ^bb0(%[[H:[a-z0-9]+]]: tensor<2x3xf32>, %[[C:[a-z0-9]+]]: tensor<2x3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[WA:[a-z0-9]+]]: tensor<7x12xf32>, %[[BA:[a-z0-9]+]]: tensor<12xf32>):
// CHECK-NEXT: %[[Z:.*]] = nn.concat %[[H]], %[[X]] : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
// CHECK-NEXT: %[[M:.*]] = nn.matmul %[[Z]], %[[WA]] : tensor<2x7xf32>, tensor<7x12xf32> -> tensor<2x12xf32>
// CHECK-NEXT: %[[MB:.*]] = nn.add %[[M]], %[[BA]] : tensor<2x12xf32>, tensor<12xf32> -> tensor<2x12xf32>
// CHECK-NEXT: %[[F:.*]] = nn.slice %[[MB]] {begin = 0 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[I:.*]] = nn.slice %[[MB]] {begin = 3 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[G:.*]] = nn.slice %[[MB]] {begin = 6 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[O:.*]] = nn.slice %[[MB]] {begin = 9 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
// CHECK-NEXT: nn.sigmoid %[[F]] : tensor<2x3xf32>
// CHECK-NEXT: nn.sigmoid %[[I]] : tensor<2x3xf32>
// CHECK-NEXT: nn.tanh %[[G]] : tensor<2x3xf32>
// CHECK-NOT: nn.matmul
// CHECK-NOT: nn.add %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3xf32>
// CHECK: nn.sigmoid %[[O]] : tensor<2x3xf32>
// CHECK-NOT: nn.matmul
// CHECK: nn.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @lstm(%h0: tensor<2x3xf32>, %c0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>,
                %wf: tensor<7x3xf32>, %bf: tensor<3xf32>, %wi: tensor<7x3xf32>, %bi: tensor<3xf32>,
                %wc: tensor<7x3xf32>, %bc: tensor<3xf32>, %wo: tensor<7x3xf32>, %bo: tensor<3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %r:3 = nn.scan inits(%h0, %c0) sequences(%xs) captures(%wf, %bf, %wi, %bi, %wc, %bc, %wo, %bo)
      : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<3xf32>,
         tensor<7x3xf32>, tensor<3xf32>, tensor<7x3xf32>, tensor<3xf32>, tensor<7x3xf32>, tensor<3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %c: tensor<2x3xf32>, %x: tensor<2x4xf32>,
       %Wf: tensor<7x3xf32>, %Bf: tensor<3xf32>, %Wi: tensor<7x3xf32>, %Bi: tensor<3xf32>,
       %Wc: tensor<7x3xf32>, %Bc: tensor<3xf32>, %Wo: tensor<7x3xf32>, %Bo: tensor<3xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %mf = nn.matmul %z, %Wf : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %af = nn.add %mf, %Bf : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %f = nn.sigmoid %af : tensor<2x3xf32>
    %mi = nn.matmul %z, %Wi : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %ai = nn.add %mi, %Bi : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %i = nn.sigmoid %ai : tensor<2x3xf32>
    %mc = nn.matmul %z, %Wc : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %ac = nn.add %mc, %Bc : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %g = nn.tanh %ac : tensor<2x3xf32>
    %fc = nn.mul %f, %c : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %ig = nn.mul %i, %g : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %c1 = nn.add %fc, %ig : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %mo = nn.matmul %z, %Wo : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %ao = nn.add %mo, %Bo : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %o = nn.sigmoid %ao : tensor<2x3xf32>
    %tc = nn.tanh %c1 : tensor<2x3xf32>
    %h1 = nn.mul %o, %tc : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1, %c1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %r#0, %r#1, %r#2 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Products not followed by a bias add (of different widths): only the
// matrices are joined, and the slices replace the products themselves.

// CHECK-LABEL: func.func @no_bias(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[WR:[a-z0-9]+]]: tensor<4x3xf32>, %[[WU:[a-z0-9]+]]: tensor<4x5xf32>)
// CHECK-NEXT: %[[W:.*]] = nn.concat %[[WR]], %[[WU]] : tensor<4x3xf32>, tensor<4x5xf32> -> tensor<4x8xf32>
// CHECK-NEXT: nn.scan inits(%[[H0]]) sequences(%[[XS]]) captures(%[[W]]) : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x8xf32>) -> tensor<2x3xf32> {
// CHECK-NEXT: ^bb0(%[[H:[a-z0-9]+]]: tensor<2x3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[WA:[a-z0-9]+]]: tensor<4x8xf32>):
// CHECK-NEXT: %[[M:.*]] = nn.matmul %[[X]], %[[WA]] : tensor<2x4xf32>, tensor<4x8xf32> -> tensor<2x8xf32>
// CHECK-NEXT: %[[R:.*]] = nn.slice %[[M]] {begin = 0 : i64} : tensor<2x8xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[U:.*]] = nn.slice %[[M]] {begin = 3 : i64} : tensor<2x8xf32> -> tensor<2x5xf32>
// CHECK-NEXT: %[[U2:.*]] = nn.slice %[[U]] {begin = 2 : i64} : tensor<2x5xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[S:.*]] = nn.add %[[R]], %[[U2]]
// CHECK-NEXT: %[[H1:.*]] = nn.add %[[H]], %[[S]]
// CHECK-NEXT: nn.yield %[[H1]] : tensor<2x3xf32>
func.func @no_bias(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %wr: tensor<4x3xf32>,
                   %wu: tensor<4x5xf32>) -> tensor<2x3xf32> {
  %r = nn.scan inits(%h0) sequences(%xs) captures(%wr, %wu)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %Wr: tensor<4x3xf32>, %Wu: tensor<4x5xf32>):
    %mr = nn.matmul %x, %Wr : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %mu = nn.matmul %x, %Wu : tensor<2x4xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
    %u = nn.slice %mu {begin = 2 : i64} : tensor<2x5xf32> -> tensor<2x3xf32>
    %s = nn.add %mr, %u : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.add %h, %s : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

// Only one of the two products adds a bias: the matrices are joined, the
// bias is not; it stays a capture (ahead of the new one) and is added to
// its product's slice.

// CHECK-LABEL: func.func @partial_bias(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[WA:[a-z0-9]+]]: tensor<4x3xf32>, %[[BA:[a-z0-9]+]]: tensor<3xf32>, %[[WB:[a-z0-9]+]]: tensor<4x3xf32>)
// CHECK-NEXT: %[[W:.*]] = nn.concat %[[WA]], %[[WB]] : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x6xf32>
// CHECK-NEXT: nn.scan inits(%[[H0]]) sequences(%[[XS]]) captures(%[[BA]], %[[W]]) :
// CHECK-NEXT: ^bb0(%{{[a-z0-9]+}}: tensor<2x3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[B:[a-z0-9]+]]: tensor<3xf32>, %[[WJ:[a-z0-9]+]]: tensor<4x6xf32>):
// CHECK-NEXT: %[[M:.*]] = nn.matmul %[[X]], %[[WJ]] : tensor<2x4xf32>, tensor<4x6xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[PA:.*]] = nn.slice %[[M]] {begin = 0 : i64}
// CHECK-NEXT: %[[PB:.*]] = nn.slice %[[M]] {begin = 3 : i64}
// CHECK-NEXT: %[[AA:.*]] = nn.add %[[PA]], %[[B]] : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: nn.mul %[[AA]], %[[PB]]
func.func @partial_bias(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %wa: tensor<4x3xf32>,
                        %ba: tensor<3xf32>, %wb: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %r = nn.scan inits(%h0) sequences(%xs) captures(%wa, %ba, %wb)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<3xf32>, tensor<4x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %Wa: tensor<4x3xf32>, %Ba: tensor<3xf32>, %Wb: tensor<4x3xf32>):
    %ma = nn.matmul %x, %Wa : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %aa = nn.add %ma, %Ba : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %mb = nn.matmul %x, %Wb : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %s = nn.mul %aa, %mb : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.add %h, %s : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

// Products of different left operands are not joined; a product with
// transposed operands, or whose right operand is not a capture, is not
// joined either. The scan is left as it was.

// CHECK-LABEL: func.func @different_lhs(
// CHECK-NOT: nn.concat
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32> {
// CHECK-NEXT: ^bb0(%[[H:[a-z0-9]+]]: tensor<2x3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[WX:[a-z0-9]+]]: tensor<4x3xf32>, %[[WH:[a-z0-9]+]]: tensor<3x3xf32>, %[[V:[a-z0-9]+]]: tensor<3x3xf32>):
// CHECK-NEXT: nn.matmul %[[X]], %[[WX]] : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: nn.matmul %[[H]], %[[WH]] : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: nn.matmul %[[H]], %[[V]] {transpose_b} : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: nn.matmul %[[H]], %[[H]] {transpose_b} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
// CHECK-NOT: nn.slice
// CHECK: nn.yield
func.func @different_lhs(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %wx: tensor<4x3xf32>,
                         %wh: tensor<3x3xf32>, %v: tensor<3x3xf32>) -> tensor<2x3xf32> {
  %r = nn.scan inits(%h0) sequences(%xs) captures(%wx, %wh, %v)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %Wx: tensor<4x3xf32>, %Wh: tensor<3x3xf32>, %V: tensor<3x3xf32>):
    %p = nn.matmul %x, %Wx : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %q = nn.matmul %h, %Wh : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %t = nn.matmul %h, %V {transpose_b} : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %g = nn.matmul %h, %h {transpose_b} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
    %s = nn.add %p, %q : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %s2 = nn.add %s, %t : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %gs = nn.sum_to %g : tensor<2x2xf32> -> tensor<2xf32>
    %gr = nn.reshape %gs : tensor<2xf32> -> tensor<2x1xf32>
    %h1 = nn.mul %s2, %gr : tensor<2x3xf32>, tensor<2x1xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

// Two groups in one scan (x @ A, x @ B and h @ C, h @ D): one joined
// matrix each, captured in the order of the groups' first products.

// CHECK-LABEL: func.func @two_groups(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[A:[a-z0-9]+]]: tensor<4x3xf32>, %[[C:[a-z0-9]+]]: tensor<3x3xf32>, %[[B:[a-z0-9]+]]: tensor<4x3xf32>, %[[D:[a-z0-9]+]]: tensor<3x3xf32>)
// CHECK-NEXT: %[[AB:.*]] = nn.concat %[[A]], %[[B]] : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x6xf32>
// CHECK-NEXT: %[[CD:.*]] = nn.concat %[[C]], %[[D]] : tensor<3x3xf32>, tensor<3x3xf32> -> tensor<3x6xf32>
// CHECK-NEXT: nn.scan inits(%[[H0]]) sequences(%[[XS]]) captures(%[[AB]], %[[CD]]) :
// CHECK-NEXT: ^bb0(%[[H:[a-z0-9]+]]: tensor<2x3xf32>, %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[WAB:[a-z0-9]+]]: tensor<4x6xf32>, %[[WCD:[a-z0-9]+]]: tensor<3x6xf32>):
// CHECK-NEXT: %[[XP:.*]] = nn.matmul %[[X]], %[[WAB]] : tensor<2x4xf32>, tensor<4x6xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[XA:.*]] = nn.slice %[[XP]] {begin = 0 : i64}
// CHECK-NEXT: %[[XB:.*]] = nn.slice %[[XP]] {begin = 3 : i64}
// CHECK-NEXT: %[[HP:.*]] = nn.matmul %[[H]], %[[WCD]] : tensor<2x3xf32>, tensor<3x6xf32> -> tensor<2x6xf32>
// CHECK-NEXT: %[[HC:.*]] = nn.slice %[[HP]] {begin = 0 : i64}
// CHECK-NEXT: %[[HD:.*]] = nn.slice %[[HP]] {begin = 3 : i64}
// CHECK-NEXT: nn.add %[[XA]], %[[HC]]
// CHECK-NEXT: nn.add %[[XB]], %[[HD]]
func.func @two_groups(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %a: tensor<4x3xf32>,
                      %c: tensor<3x3xf32>, %b: tensor<4x3xf32>, %d: tensor<3x3xf32>) -> tensor<2x3xf32> {
  %r = nn.scan inits(%h0) sequences(%xs) captures(%a, %c, %b, %d)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<3x3xf32>, tensor<4x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %A: tensor<4x3xf32>, %C: tensor<3x3xf32>, %B: tensor<4x3xf32>, %D: tensor<3x3xf32>):
    %xa = nn.matmul %x, %A : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %hc = nn.matmul %h, %C : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %xb = nn.matmul %x, %B : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %hd = nn.matmul %h, %D : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %r1 = nn.add %xa, %hc : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %r2 = nn.add %xb, %hd : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.mul %r1, %r2 : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

// A one-step scan (T = 1, the `step` entry point's) is left alone: joining
// would copy the weights for every token.

// CHECK-LABEL: func.func @one_step(
// CHECK-NOT: nn.concat
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<1x3xf32>, tensor<1x1x4xf32>, tensor<7x3xf32>, tensor<3xf32>, tensor<7x3xf32>, tensor<3xf32>) -> tensor<1x3xf32> {
// CHECK: nn.matmul %{{.*}}, %{{.*}} : tensor<1x7xf32>, tensor<7x3xf32> -> tensor<1x3xf32>
// CHECK: nn.add %{{.*}}, %{{.*}} : tensor<1x3xf32>, tensor<3xf32> -> tensor<1x3xf32>
// CHECK: nn.matmul %{{.*}}, %{{.*}} : tensor<1x7xf32>, tensor<7x3xf32> -> tensor<1x3xf32>
// CHECK: nn.add %{{.*}}, %{{.*}} : tensor<1x3xf32>, tensor<3xf32> -> tensor<1x3xf32>
// CHECK-NOT: nn.slice
// CHECK: nn.yield
func.func @one_step(%h0: tensor<1x3xf32>, %xs: tensor<1x1x4xf32>, %wa: tensor<7x3xf32>,
                    %ba: tensor<3xf32>, %wb: tensor<7x3xf32>, %bb: tensor<3xf32>) -> tensor<1x3xf32> {
  %r = nn.scan inits(%h0) sequences(%xs) captures(%wa, %ba, %wb, %bb)
      : (tensor<1x3xf32>, tensor<1x1x4xf32>, tensor<7x3xf32>, tensor<3xf32>, tensor<7x3xf32>, tensor<3xf32>) -> tensor<1x3xf32> {
  ^bb0(%h: tensor<1x3xf32>, %x: tensor<1x4xf32>, %Wa: tensor<7x3xf32>, %Ba: tensor<3xf32>, %Wb: tensor<7x3xf32>, %Bb: tensor<3xf32>):
    %z = nn.concat %h, %x : tensor<1x3xf32>, tensor<1x4xf32> -> tensor<1x7xf32>
    %ma = nn.matmul %z, %Wa : tensor<1x7xf32>, tensor<7x3xf32> -> tensor<1x3xf32>
    %aa = nn.add %ma, %Ba : tensor<1x3xf32>, tensor<3xf32> -> tensor<1x3xf32>
    %mb = nn.matmul %z, %Wb : tensor<1x7xf32>, tensor<7x3xf32> -> tensor<1x3xf32>
    %ab = nn.add %mb, %Bb : tensor<1x3xf32>, tensor<3xf32> -> tensor<1x3xf32>
    %h1 = nn.mul %aa, %ab : tensor<1x3xf32>, tensor<1x3xf32> -> tensor<1x3xf32>
    nn.yield %h1 : tensor<1x3xf32>
  }
  return %r : tensor<1x3xf32>
}

// -----

// Biases that broadcast (one value per product, [1]) are not [N]: only the
// matrices are joined, each bias stays a capture added after its slice.
// CHECK-LABEL: func.func @broadcast_bias(
// CHECK: %[[W:.*]] = nn.concat %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x6xf32>
// CHECK-NOT: nn.concat {{.*}}tensor<1xf32>
// CHECK: nn.scan
// CHECK: %[[P:.*]] = nn.matmul %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4x6xf32> -> tensor<2x6xf32>
// CHECK: %[[A:.*]] = nn.slice %[[P]] {begin = 0 : i64}
// CHECK: nn.add %[[A]], %{{.*}} : tensor<2x3xf32>, tensor<1xf32> -> tensor<2x3xf32>
func.func @broadcast_bias(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %wa: tensor<4x3xf32>, %ba: tensor<1xf32>, %wb: tensor<4x3xf32>, %bb: tensor<1xf32>) -> tensor<2x3xf32> {
  %r = nn.scan inits(%h0) sequences(%xs) captures(%wa, %ba, %wb, %bb)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<1xf32>, tensor<4x3xf32>, tensor<1xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %Wa: tensor<4x3xf32>, %Ba: tensor<1xf32>, %Wb: tensor<4x3xf32>, %Bb: tensor<1xf32>):
    %ma = nn.matmul %x, %Wa : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %aa = nn.add %ma, %Ba : tensor<2x3xf32>, tensor<1xf32> -> tensor<2x3xf32>
    %mb = nn.matmul %x, %Wb : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %ab = nn.add %mb, %Bb : tensor<2x3xf32>, tensor<1xf32> -> tensor<2x3xf32>
    %s = nn.mul %aa, %ab : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.add %h, %s : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}
