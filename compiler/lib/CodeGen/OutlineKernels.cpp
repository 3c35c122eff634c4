// Entry points as sequences of kernel calls; identical kernels emitted once.
//
// After the memory plan, an entry point is one long function: every loop
// nest of the forward and backward pass, each layer's loops again for each
// layer, the forward pass again in predict and eval_step. LLVM's cost grows
// with that length (and faster than linearly: ScalarEvolution walks the
// predecessors of each loop back to the entry). Here each top-level loop
// nest (a kernel) becomes a function whose arguments are the buffers it
// reads and writes, and kernels that print the same are one function
// (IREE deduplicates its dispatch executables the same way). The four
// blocks of a GPT, or the forward sweeps of recurrent layers of one size,
// then share their code.
//
// Two kernels can only print the same if the buffers they get carry no
// trace of where they live. A parameter is a slice of the flat parameter
// buffer at a static offset, so its type says that offset; here every such
// contiguous view becomes a `memref.view` of the byte buffer under it, a
// buffer with the identity layout that says nothing about its place.
#include "nnc/Conversion/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SHA256.h"

namespace nnc {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// A statically shaped buffer whose elements lie row-major and contiguous
// (any static offset): one `memref.view` of its bytes can stand for it.
bool contiguous(MemRefType t) {
  if (!t.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(t, strides, offset)) || ShapedType::isDynamic(offset))
    return false;
  int64_t expect = 1;
  for (int i = t.getRank() - 1; i >= 0; --i) {
    if (t.getDimSize(i) != 1 && strides[i] != expect)
      return false;
    expect *= t.getDimSize(i);
  }
  return true;
}

bool identityBuffer(Type t) {
  auto m = t.dyn_cast<MemRefType>();
  return m && m.hasStaticShape() && m.getLayout().isIdentity();
}

// `op` again on `source` (the same view, retyped), or null where the type
// cannot follow.
Value rebuildView(OpBuilder &b, Operation *op, Value source) {
  auto src = source.getType().cast<MemRefType>();
  Location loc = op->getLoc();
  if (auto sv = dyn_cast<memref::SubViewOp>(op)) {
    MemRefType old = sv.getType();
    Type t = old.getRank() == src.getRank()
                 ? memref::SubViewOp::inferResultType(src, sv.getMixedOffsets(), sv.getMixedSizes(),
                                                      sv.getMixedStrides())
                 : memref::SubViewOp::inferRankReducedResultType(
                       old.getShape(), src, sv.getMixedOffsets(), sv.getMixedSizes(),
                       sv.getMixedStrides());
    return b.create<memref::SubViewOp>(loc, t.cast<MemRefType>(), source, sv.getMixedOffsets(),
                                       sv.getMixedSizes(), sv.getMixedStrides());
  }
  if (auto ex = dyn_cast<memref::ExpandShapeOp>(op)) {
    auto t = memref::ExpandShapeOp::computeExpandedType(src, ex.getType().getShape(),
                                                        ex.getReassociationIndices());
    if (failed(t))
      return {};
    return b.create<memref::ExpandShapeOp>(loc, *t, source, ex.getReassociationIndices());
  }
  if (auto co = dyn_cast<memref::CollapseShapeOp>(op)) {
    if (!memref::CollapseShapeOp::isGuaranteedCollapsible(src, co.getReassociationIndices()))
      return {};
    auto t = memref::CollapseShapeOp::computeCollapsedType(src, co.getReassociationIndices());
    return b.create<memref::CollapseShapeOp>(loc, t, source, co.getReassociationIndices());
  }
  return {};
}

// Users that take a buffer of any layout and forward no type: loads,
// stores, transfers, copies, linalg ops.
bool layoutAgnostic(Operation *u) {
  return u->getNumRegions() == 0
             ? !isa<CallOpInterface, RegionBranchTerminatorOpInterface, memref::CastOp,
                    memref::ReinterpretCastOp, ViewLikeOpInterface>(u) &&
                   llvm::none_of(u->getResultTypes(), [](Type t) { return t.isa<MemRefType>(); })
             : isa<linalg::LinalgOp>(u);
}

// Gives the users of `old` the buffer `neu` (same elements, another
// layout); views of it are rebuilt on `neu`. Uses whose types cannot
// follow keep `old`.
void replaceRetyped(Value old, Value neu) {
  for (OpOperand &use : llvm::make_early_inc_range(old.getUses())) {
    Operation *u = use.getOwner();
    if (isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp>(u) &&
        use.getOperandNumber() == 0) {
      OpBuilder b(u);
      if (Value v = rebuildView(b, u, neu))
        replaceRetyped(u->getResult(0), v);
    } else if (layoutAgnostic(u)) {
      use.set(neu);
    }
  }
}

// Every memref argument becomes bytes (`memref<Nxi8>`; under the bare-pointer
// convention the C signature stays a pointer), seen through a view of its
// old type, so that its slices can be views of bytes too.
void argumentsAsBytes(func::FuncOp fn) {
  Block &entry = fn.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Type i8 = b.getI8Type();
  SmallVector<Type> types(fn.getArgumentTypes());
  for (BlockArgument arg : entry.getArguments()) {
    auto t = arg.getType().dyn_cast<MemRefType>();
    if (!t || !identityBuffer(t) || t.getElementType() == i8 ||
        !t.getElementType().isIntOrFloat() || t.getElementTypeBitWidth() % 8)
      continue;
    auto bytes = MemRefType::get({t.getNumElements() * t.getElementTypeBitWidth() / 8}, i8);
    arg.setType(bytes);
    types[arg.getArgNumber()] = bytes;
    Value zero = b.create<arith::ConstantIndexOp>(fn.getLoc(), 0);
    auto view = b.create<memref::ViewOp>(fn.getLoc(), t, arg, zero, ValueRange{});
    arg.replaceAllUsesExcept(view, view);
  }
  fn.setType(b.getFunctionType(types, fn.getResultTypes()));
}

// Where a buffer lies: a byte range of a root buffer (an argument of the
// entry point, the workspace, a stack buffer). Distinct roots never overlap:
// the entry points take distinct buffers (nnrt_abi.h).
struct Extent {
  Value root;
  int64_t lo = 0, hi = 0;
};

std::optional<Extent> extentOf(Value v) {
  auto t = v.getType().dyn_cast<MemRefType>();
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!t || !t.hasStaticShape() || !t.getElementType().isIntOrFloat() ||
      failed(getStridesAndOffset(t, strides, offset)) || ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  int64_t last = 0; // the farthest element from the first
  for (auto [size, stride] : llvm::zip(t.getShape(), strides))
    last += (size - 1) * stride;
  int64_t elt = t.getElementTypeBitWidth() / 8;
  // Views with static offsets say their offset from the buffer under them.
  Value base = v;
  while (isa_and_nonnull<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp>(
      base.getDefiningOp()))
    base = base.getDefiningOp()->getOperand(0);
  Extent e{base, 0, 0};
  Operation *d = base.getDefiningOp();
  if (auto view = dyn_cast_or_null<memref::ViewOp>(d)) {
    auto shift = getConstantIntValue(view.getByteShift());
    auto under = extentOf(view.getSource());
    if (!shift || !under)
      return std::nullopt;
    e = Extent{under->root, under->lo + *shift, 0};
  } else if (d && !isa<memref::AllocOp, memref::AllocaOp, memref::GetGlobalOp, scf::IfOp,
                       arith::SelectOp>(d)) {
    return std::nullopt;
  }
  e.lo += offset * elt;
  e.hi = e.lo + (last + 1) * elt;
  return e;
}

// Each top-level contiguous view with a static offset becomes a view of the
// bytes under it, with the identity layout.
void viewsAsBytes(func::FuncOp fn) {
  Block &entry = fn.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(entry)) {
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp>(op))
      continue;
    Value v = op.getResult(0);
    auto t = v.getType().cast<MemRefType>();
    if (t.getLayout().isIdentity() || !contiguous(t) || !t.getElementType().isIntOrFloat())
      continue;
    // The bytes under it: a view can only be made of a byte buffer.
    auto under = extentOf(v);
    auto bytes = under ? under->root.getType().dyn_cast<MemRefType>() : MemRefType();
    if (!bytes || bytes.getRank() != 1 || !bytes.getElementType().isInteger(8))
      continue;
    OpBuilder b(op.getBlock(), std::next(op.getIterator()));
    Value at = b.create<arith::ConstantIndexOp>(op.getLoc(), under->lo);
    auto plain = MemRefType::get(t.getShape(), t.getElementType());
    Value view = b.create<memref::ViewOp>(op.getLoc(), plain, under->root, at, ValueRange{});
    replaceRetyped(v, view);
  }
}

// Ops that stay in the entry point: buffers and their views (the stack
// frame belongs to the caller; the workspace, picked by an scf.if, too),
// constants, scalars.
bool staysInCaller(Operation *op) {
  if (llvm::any_of(op->getResultTypes(), [](Type t) { return t.isa<MemRefType>(); }))
    return true;
  return op->getNumRegions() == 0 && !isa<memref::CopyOp>(op);
}

// A value a kernel can take as an argument under the bare-pointer
// convention: a scalar, a vector, or a static buffer with the identity layout.
bool passable(Type t) {
  return identityBuffer(t) || t.isIntOrIndexOrFloat() || t.isa<VectorType>();
}

bool clonable(Operation *op) {
  return op && (op->hasTrait<OpTrait::ConstantLike>() || isa<ViewLikeOpInterface>(op)) &&
         !isa<memref::AllocOp, memref::AllocaOp>(op);
}

// For each argument, whether it is a buffer that no other argument of the
// call overlaps: the kernel may then mark it `llvm.noalias`, without which
// LLVM guards every loop with overlap checks or leaves it scalar.
SmallVector<bool> disjointArgs(ArrayRef<Value> args) {
  SmallVector<std::optional<Extent>> ext;
  for (Value v : args)
    ext.push_back(v.getType().isa<MemRefType>() ? extentOf(v) : std::nullopt);
  SmallVector<bool> out(args.size(), false);
  for (size_t i = 0; i < args.size(); ++i) {
    if (!ext[i])
      continue;
    out[i] = true;
    for (size_t j = 0; j < args.size() && out[i]; ++j) {
      if (j == i || !args[j].getType().isa<MemRefType>())
        continue;
      out[i] = ext[j] && (ext[j]->root != ext[i]->root || ext[j]->hi <= ext[i]->lo ||
                          ext[i]->hi <= ext[j]->lo);
    }
  }
  return out;
}

// What a kernel computes, as text: the function (its name and locations
// aside) and the globals it reads (constant tables). Equal texts are the
// same code.
std::string contentOf(func::FuncOp kernel) {
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel.print(os, OpPrintingFlags().useLocalScope());
  auto module = kernel->getParentOfType<ModuleOp>();
  llvm::SetVector<Operation *> globals;
  kernel.walk([&](Operation *o) {
    for (NamedAttribute a : o->getAttrs())
      if (auto ref = a.getValue().dyn_cast<FlatSymbolRefAttr>())
        if (Operation *g = SymbolTable::lookupSymbolIn(module, ref))
          globals.insert(g);
  });
  for (Operation *g : globals) {
    os << "\n";
    g->print(os, OpPrintingFlags().useLocalScope());
  }
  return os.str();
}

// The kernel's key (`nn.key`): a hash of its content, which names its
// object in the compile cache whichever model the kernel comes from.
std::string contentKey(llvm::StringRef text) {
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(text));
  return llvm::toHex(llvm::ArrayRef<uint8_t>(digest).take_front(16), /*LowerCase=*/true);
}

// Bufferization names constant globals in the order it meets them, and
// that order varies from run to run (it walks the functions in an order
// kept by pointer): `__constant_24xf32` in one run is `__constant_24xf32_0`
// in the next. Kernels that read them would then print differently and
// miss the compile cache. Named by their content and sorted, they print
// the same every time.
void nameConstantsByContent(ModuleOp module) {
  llvm::StringMap<StringAttr> renamed;
  SmallVector<memref::GlobalOp> globals;
  for (auto g : llvm::make_early_inc_range(module.getOps<memref::GlobalOp>())) {
    if (!g.getConstant() || !g.isPrivate() || !g.getInitialValue())
      continue;
    std::string text;
    llvm::raw_string_ostream os(text);
    os << g.getType() << " " << *g.getInitialValue() << " " << g.getAlignment();
    std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(os.str()));
    std::string name = "__constant_" + llvm::toHex(llvm::ArrayRef<uint8_t>(digest).take_front(8),
                                                   /*LowerCase=*/true);
    if (renamed.count(name)) { // the same constant twice: one global
      renamed[g.getSymName()] = renamed[name];
      g.erase();
      continue;
    }
    auto attr = StringAttr::get(module.getContext(), name);
    renamed[g.getSymName()] = attr;
    renamed[name] = attr;
    globals.push_back(g);
  }
  module.walk([&](memref::GetGlobalOp get) {
    if (auto it = renamed.find(get.getName()); it != renamed.end())
      get.setNameAttr(FlatSymbolRefAttr::get(it->second));
  });
  for (memref::GlobalOp g : globals)
    g.setSymName(renamed[g.getSymName()].getValue());
  llvm::sort(globals, [](memref::GlobalOp a, memref::GlobalOp b) {
    return a.getSymName() < b.getSymName();
  });
  for (memref::GlobalOp g : llvm::reverse(globals))
    g->moveBefore(&module.getBody()->front());
}

struct OutlineKernelsPass : public nnc::impl::OutlineKernelsBase<OutlineKernelsPass> {
  using OutlineKernelsBase::OutlineKernelsBase;

  llvm::StringMap<func::FuncOp> byText; // a kernel's text (name aside) -> the kernel
  int64_t made = 0, calls = 0;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    nameConstantsByContent(module);
    SmallVector<func::FuncOp> fns;
    // The entry points (init too: its random fills are a third of a GPT's
    // LLVM time when they stay in one function).
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal() && fn.getBody().hasOneBlock())
        fns.push_back(fn);
    for (func::FuncOp fn : fns) {
      argumentsAsBytes(fn);
      viewsAsBytes(fn);
      outlineBlock(fn, fn.getBody().front());
    }
    module->setAttr("nn.kernels", Builder(module).getI64ArrayAttr({made, calls}));
  }

  // Each loop nest of `block` becomes a kernel; the loop over a repeated
  // layer's copies stays, its body's loop nests becoming kernels in turn.
  void outlineBlock(func::FuncOp fn, Block &block) {
    for (Operation &op : llvm::make_early_inc_range(block.without_terminator())) {
      if (auto loop = dyn_cast<scf::ForOp>(op); loop && loop->hasAttr(nnc::kRepeatLoopAttr))
        outlineBlock(fn, *loop.getBody());
      else if (!staysInCaller(&op))
        outline(fn, &op);
    }
  }

  // Moves `op` into a kernel function called in its place, or calls an
  // identical kernel made before.
  void outline(func::FuncOp fn, Operation *op) {
    bool scalarsAsArgs = !fn->hasAttr("nn.workspace");
    // Values from outside become arguments; constants, and views that are
    // not plain buffers, are made again inside from their operands.
    llvm::SetVector<Value> args;
    llvm::SetVector<Operation *> clones;
    std::function<bool(Value)> capture = [&](Value v) {
      Operation *d = v.getDefiningOp();
      if (op->isAncestor(d ? d : v.getParentBlock()->getParentOp()))
        return true;
      // In init (no workspace), each parameter's fill differs from the next
      // only in scalars (its random stream, its scale): as arguments, the
      // fills of same-shaped parameters are one kernel, and init's kernels
      // do not grow with the depth of the model. Elsewhere constants stay
      // inside, where LLVM folds them into the hot loops.
      if (scalarsAsArgs && isa_and_nonnull<arith::ConstantOp>(d) &&
          (v.getType().isa<FloatType>() || v.getType().isSignlessInteger(64) ||
           v.getType().isSignlessInteger(32))) {
        args.insert(v);
        return true;
      }
      if (clonable(d) && d->getNumOperands() == 0) {
        clones.insert(d);
        return true;
      }
      if (passable(v.getType())) {
        args.insert(v);
        return true;
      }
      if (!clonable(d) || !llvm::all_of(d->getOperands(), capture))
        return false;
      clones.insert(d);
      return true;
    };
    bool ok = true;
    op->walk([&](Operation *o) {
      for (Value v : o->getOperands())
        ok &= capture(v);
    });
    for (Type t : op->getResultTypes())
      ok &= passable(t);
    if (!ok)
      return; // stays in place: correct, only not shared

    OpBuilder b(fn);
    SmallVector<Type> argTypes;
    for (Value v : args)
      argTypes.push_back(v.getType());
    auto kernel = b.create<func::FuncOp>(op->getLoc(), "nnc_kernel",
                                         b.getFunctionType(argTypes, op->getResultTypes()));
    Block *body = kernel.addEntryBlock();
    IRMapping map;
    for (auto [v, a] : llvm::zip(args, body->getArguments()))
      map.map(v, a);
    OpBuilder in = OpBuilder::atBlockEnd(body);
    SmallVector<Operation *> ordered(clones.begin(), clones.end());
    llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
    for (Operation *c : ordered)
      in.clone(*c, map);
    Operation *copy = in.clone(*op, map);
    in.create<func::ReturnOp>(op->getLoc(), copy->getResults());

    SmallVector<bool> disjoint = disjointArgs(args.getArrayRef());
    for (auto [i, d] : llvm::enumerate(disjoint))
      if (d)
        kernel.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), b.getUnitAttr());
    std::string text = contentOf(kernel);
    auto [it, fresh] = byText.try_emplace(text, kernel);
    if (fresh) {
      kernel.setSymName(("nnc_kernel_" + llvm::Twine(made++)).str());
      kernel->setAttr("nn.key", b.getStringAttr(contentKey(text)));
      kernel.setPrivate();
      // Internal: two models' kernels never collide in one program. Not
      // inlined: a kernel called from four layers is compiled once.
      kernel->setAttr("llvm.linkage",
                      LLVM::LinkageAttr::get(b.getContext(), LLVM::Linkage::Internal));
      kernel->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    } else {
      kernel.erase();
    }
    OpBuilder at(op);
    auto call = at.create<func::CallOp>(op->getLoc(), it->second, args.getArrayRef());
    op->replaceAllUsesWith(call.getResults());
    op->erase();
    ++calls;
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createOutlineKernelsPass() {
  return std::make_unique<OutlineKernelsPass>();
}
