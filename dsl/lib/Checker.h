// Checker.h: the checker of the front end, which checks one model of a
// loaded program and expands it into a Graph. Private to dsl/lib; its
// member functions are defined by concern in the Check*.cpp files, as
// clang splits Sema.
#pragma once

#include "nnc/dsl/AST.h"
#include "nnc/dsl/Frontend.h"
#include "nnc/dsl/Shapes.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nnc::dsl::detail {

inline constexpr int64_t kMaxDim = int64_t(1) << 31;
inline constexpr int64_t kMaxElements = int64_t(1) << 34;
inline constexpr int kMaxLayerDepth = 32;
inline constexpr size_t kMaxNodes = 200000;

// Built-in functions (CheckBuiltins.cpp).
const std::map<std::string, OpKind> &unaryFunctions();
bool isActivation(const std::string &s);
bool isLossFunction(const std::string &s);
// Built-ins with their own argument rules (see callTensorBuiltin).
bool isTensorBuiltin(const std::string &s);
// Transformer primitives (issue 4), with named arguments (see
// callTransformerBuiltin).
bool isTransformerBuiltin(const std::string &s);
bool isBuiltinFunction(const std::string &s);
bool isInitializerName(const std::string &s);

// " (did you mean 'x'?)" when a candidate is close to `name`, else ""
// (Checker.cpp).
std::string suggest(const std::string &name, const std::vector<std::string> &candidates);

// Loading: a file and everything it imports (Load.cpp).
struct Program {
  std::string mainFile;
  std::vector<std::unique_ptr<FileAST>> files; // files[0] is the main file
  std::map<std::string, const LayerDecl *> layers;
};

bool readFile(const std::string &path, std::string &out, std::string &why);
std::unique_ptr<Program> loadProgram(const std::string &source, const std::string &fileName,
                                     const FrontendOptions &opts, DiagnosticEngine &diag);

struct Value {
  enum Kind { Error, Tensor, Int, Float, Func, String } kind = Error;
  int node = -1;
  int64_t i = 0;
  double f = 0;
  std::string s; // Func: the function name; String: the text
  // Tensor: `node` indexes Graph::nodes even while a scan body is built (a
  // tensor argument of a cell); using it in the body makes a ScanCapture.
  bool outer = false;

  static Value error() { return Value{}; }
  static Value tensor(int n) {
    Value v;
    v.kind = Tensor;
    v.node = n;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = Int;
    v.i = x;
    v.f = double(x);
    return v;
  }
  static Value real(double x) {
    Value v;
    v.kind = Float;
    v.f = x;
    return v;
  }
  static Value func(const std::string &name) {
    Value v;
    v.kind = Func;
    v.s = name;
    return v;
  }
  static Value string(const std::string &text) {
    Value v;
    v.kind = String;
    v.s = text;
    return v;
  }
  bool isNumber() const { return kind == Int || kind == Float; }
};

struct Scope {
  std::string prefix; // "" for the model, "h1." inside instance h1
  std::map<std::string, Value> env;
  std::map<std::string, int> counters; // auto names per layer kind
  std::set<std::string> instances;
  bool isModel = false;
};

struct Frame {
  const LayerDecl *layer;
  std::string instance; // full dotted name
  Loc callLoc;
};

class Checker {
public:
  Checker(const Program &prog, const FrontendOptions &opts, DiagnosticEngine &diag,
          bool findTimeParam = true)
      : prog_(prog), opts_(opts), diag_(diag), findTimeParam_(findTimeParam) {}

  std::optional<Graph> run(const std::string &modelName);

private:
  // ---- Checker.cpp: diagnostics, graph building, models
  // Errors inside a layer defined in another file (the standard library)
  // are reported at the layer call in the user's file, with a note pointing
  // into the library.
  static const char *kindWord(const LayerDecl *l) { return l && l->isCell ? "cell" : "layer"; }
  void error(const Loc &loc, const std::string &msg);
  Loc nodeLoc(const Loc &l) const { return override_ ? *override_ : l; }
  // The source text of an expression, for messages ('x @ W').
  std::string text(const Expr &e) const;
  std::string describe(const Value &v) const;
  int addNode(OpKind op, std::vector<int> operands, std::vector<int64_t> shape, DType dt,
              bool batched, const Loc &loc);
  // The node of a tensor value: in the graph being built (the model's, or
  // the body of the scan being built).
  const Node &node(const Value &v) const { return (*nodes_)[size_t(v.node)]; }
  Node &mutNode(int n) { return (*nodes_)[size_t(n)]; }
  // A number used where a tensor is needed becomes a scalar Constant node.
  Value asTensor(const Value &v, const Expr &e);
  Graph checkModel(const ModelDecl &m);
  // The model parameter that is the time dimension: setting it to another
  // value changes the length of every scan of that length. Found by building
  // the model again with the candidate changed (quietly).
  std::string timeParam(const ModelDecl &m, const Graph &g);

  // ---- CheckStatements.cpp: statements
  void declare(Scope &scope, const std::string &name, const Loc &loc, Value v, bool redefinable);
  void nameNode(const Value &v, const std::string &name);
  void exec(const Stmt &s, Scope &scope);
  bool checkSize(const std::vector<int64_t> &shape, const Loc &loc, const std::string &what);
  std::optional<int64_t> evalDim(const Expr &e, Scope &scope);
  std::vector<int64_t> declShape(const Stmt &s, Scope &scope, const std::string &what, bool &ok);
  void createParam(const Stmt &s, Scope &scope);
  bool checkInit(const Stmt &s, Scope &scope, Param &p);

  // ---- CheckExpressions.cpp: expressions
  void unknownName(const std::string &name, const Loc &loc, const Scope &scope);
  Value eval(const Expr &e, Scope &scope, const std::string &nameHint = "");
  bool evalArgs(const Expr &e, Scope &scope, std::vector<Value> &vals, const Arg *skip = nullptr,
                const std::function<bool(const Arg &, const Value &)> &fits = {});
  Value foldNumbers(char op, const Value &a, const Value &b, const Expr &e);
  Value binary(const Expr &e, Scope &scope);
  bool broadcast(const Node &a, const Node &b, const Expr &e, std::vector<int64_t> &out);
  Value matmul(const Value &a, const Value &b, const Expr &e);
  Value batchMatmul(const Value &a, const Value &b, const Expr &e);
  Value unaryOp(OpKind op, const std::string &fname, const Value &v, const Expr &e,
                const Expr &arg);
  std::vector<std::string> callableNames() const;
  std::string cellMethodError(const LayerDecl &cell, const std::string &method) const;
  Value call(const Expr &e, Scope &scope, const std::string &nameHint);

  // ---- CheckBuiltins.cpp: built-in functions
  Value callBuiltin(const std::string &f, const Expr &e, Scope &scope);
  static std::string builtinExample(const std::string &f);
  Value callTensorBuiltin(const std::string &f, const Expr &e, Scope &scope);
  bool needTensor(const std::string &f, const Expr &e, const std::vector<Value> &vals, size_t i,
                  const char *what);
  std::optional<int64_t> needInt(const std::string &f, const Expr &e,
                                 const std::vector<Value> &vals, size_t i, const char *what,
                                 int64_t min);
  Value callConcat(const std::string &f, const Expr &e, const std::vector<Value> &vals,
                   const std::optional<Value> &concatAxis, const Arg *concatAxisArg);
  Value callSlice(const std::string &f, const Expr &e, const std::vector<Value> &vals);
  Value callEmbedding(const std::string &f, const Expr &e, const std::vector<Value> &vals);
  Value callDropout(const std::string &f, const Expr &e, const std::vector<Value> &vals);
  Value callCache(const Expr &e, Scope &scope);
  int addStepState(const std::string &name, const std::vector<int64_t> &shape, const Loc &loc);
  int positionNode(const Loc &loc);

  // ---- CheckTransformer.cpp: transformer primitives (issue 4)
  std::optional<std::vector<const Expr *>> bindBuiltinArgs(const std::string &f, const Expr &e,
                                                           const std::vector<std::string> &params,
                                                           size_t required,
                                                           const std::string &example);
  Value callTransformerBuiltin(const std::string &f, const Expr &e, Scope &scope);
  Value callPositions(const Expr &e, const std::vector<const Expr *> &args,
                      const std::vector<Value> &vals);
  Value callShapeBuiltin(const std::string &f, const Expr &e, Scope &scope);
  Value callReshape(const Expr &e, const std::vector<Value> &vals,
                    const std::vector<int64_t> &ints);

  // ---- CheckLayers.cpp: layers and cells
  // The scan whose body is being built (nodes_ points at its body).
  struct ScanBuild {
    Scan scan;
    std::map<int, int> captureOf; // outer node -> its ScanCapture body node
  };
  enum class Apply { Layer, Sequence, Last };
  Value capture(const Value &v);
  void createState(const Stmt &s, Scope &scope);
  static const Stmt *lastAssign(const LayerDecl &cell, const std::string &name);
  // ---- CheckRepeat.cpp: repeat(N, Layer(...))
  // What the graph held before copy 0 of a repeat was added.
  struct RepeatMarks {
    size_t nodes, params, layers, scans, stepStates;
    std::string prefix; // the repeat's instance path: "blocks"
  };
  Value applyRepeat(const Expr &rep, const Expr &app, Scope &scope, const std::string &nameHint);
  bool loopable(const RepeatMarks &m, const Value &in, const Value &out) const;
  Value loopCopies(const RepeatMarks &m, const Value &in, const Value &out, int64_t count,
                   const std::string &kind, const Loc &loc);
  Value applyLayer(const LayerDecl &layer, const Expr &ctor, const Expr &app, Scope &scope,
                   const std::string &nameHint, Apply mode = Apply::Layer);
  bool layerArgs(const LayerDecl &layer, const Expr &ctor, Scope &scope, bool cell,
                 std::vector<bool> &given, std::vector<Value> &values);
  std::optional<std::string> instanceName(const LayerDecl &layer, const Expr &ctor, Scope &scope,
                                          const std::string &nameHint);
  bool layerInputs(const LayerDecl &layer, const Expr &app, Scope &scope, Apply mode,
                   std::vector<Value> &inputs, std::vector<std::vector<int64_t>> &shapes,
                   int64_t &length);
  bool bindSignature(const LayerDecl &layer, const Expr &app, bool cell,
                     const std::vector<Value> &inputs,
                     const std::vector<std::vector<int64_t>> &shapes, Scope &inst,
                     std::string &mismatch, Loc &mismatchLoc);
  Value layerResult(const LayerDecl &layer, Scope &inst, bool cell, int errorsBefore);
  void checkStateUpdates(const LayerDecl &layer, Scope &inst, Scan &scan, int errorsBefore,
                         Value &result);

  // ---- CheckTrain.cpp: train blocks
  TrainConfig checkTrain(const TrainDecl &t, const Graph *g);
  std::optional<Value> number(const Expr &e, const std::string &what);
  std::optional<int64_t> positiveInt(const Expr &e, const std::string &what);
  std::optional<TrainValue> trainValue(const Expr &e);
  void checkData(const Expr &e, TrainConfig &cfg, const Graph *g);
  bool checkBabiOption(const Arg &a, TrainConfig &cfg);
  void finishBabiData(const Expr &e, const TrainConfig &cfg, const Graph *g);
  bool checkTextOption(const Arg &a);
  void finishTextData(const Expr &e, TrainConfig &cfg, const Graph *g);
  void checkOptimizer(const Expr &e, TrainConfig &cfg);
  void checkSchedule(const Expr &e, TrainConfig &cfg);
  void checkMonitor(const TrainDecl &t, TrainConfig &cfg);

  const Program &prog_;
  const FrontendOptions &opts_;
  DiagnosticEngine &diag_;
  Graph g_;
  std::vector<Frame> frames_;
  std::optional<Loc> override_;
  bool lossSeen_ = false;
  bool reportedTooLarge_ = false;
  Loc lossLoc_;
  bool findTimeParam_ = true;
  std::vector<Node> *nodes_ = &g_.nodes; // where addNode appends
  ScanBuild *scan_ = nullptr;            // the scan whose body is being built
  int dropouts_ = 0;                     // seed streams handed out
  int positionNode_ = -1;                // cacheStep: the position state's node
  std::vector<std::pair<const ParamDecl *, Value>> modelParams_;
};

} // namespace nnc::dsl::detail
