// Frontend.h: the entry points of the .nn front end.
//
//   DiagnosticEngine diag(std::cerr);
//   auto g = buildGraph("iris.nn", {NNC_STDLIB_DIR}, diag);
//   if (!g) return 1; // every error was printed as file:line:col: error: ...
//
// buildGraph parses the file and its imports, checks names, shapes and
// types, expands every layer call into primitive nodes and returns the
// checked Graph (see Graph.h), or nullopt if any error was reported.
#pragma once

#include "nnc/dsl/Diagnostics.h"
#include "nnc/dsl/Graph.h"

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace nnc::dsl {

struct FrontendOptions {
  std::string stdlibDir; // where `import std.layers` finds layers.nn
  // Values for model parameters (`model M(window T = 25)`), replacing their
  // defaults: {"T", 1} builds the one-step model used for generation.
  std::map<std::string, int64_t> overrides;
  // Build the one-position step of a model with attention caches (see
  // Graph::usesCache): the first dimension of every input and target (the
  // time) becomes 1, `cache(x)` keeps x of earlier positions in a step state
  // of the input's full length, and positions() and causal_mask() count from
  // a `position` state.
  bool cacheStep = false;
  // Also build the model's one-step graph (Graph::step) when it has one
  // (hasStep): the file is loaded and parsed once for both.
  bool buildStep = false;
  // repeat(N, Layer(...)) as one loop over the copies' stacked parameters
  // where it can be (Graph::repeats); false: N copies, as written out (the
  // tool's NNC_UNROLL_REPEATS=1, to compare the two).
  bool loopRepeats = true;
};

// Whether generation can feed the model one token per step: recurrent
// cells with a time parameter (the model again with it set to 1), or
// attention caches (cacheStep); and one input (a question answerer with
// cells has no step).
bool hasStep(const Graph &g);

// Parse + check `path`. modelName empty = the only model of the file (an
// error if the file has several).
std::optional<Graph> buildGraph(const std::string &path, const FrontendOptions &opts,
                                DiagnosticEngine &diag, const std::string &modelName = "");

// The same from source text; `fileName` names it in diagnostics and is the
// base for relative imports and data paths.
std::optional<Graph> buildGraphFromSource(const std::string &source, const std::string &fileName,
                                          const FrontendOptions &opts, DiagnosticEngine &diag,
                                          const std::string &modelName = "");

// Prints the parsed AST of `path` (not of its imports) as an indented tree,
// one node per line with line:col. Returns false on parse errors.
bool dumpAST(const std::string &path, const FrontendOptions &opts, DiagnosticEngine &diag,
             std::ostream &os);
bool dumpASTFromSource(const std::string &source, const std::string &fileName,
                       const FrontendOptions &opts, DiagnosticEngine &diag, std::ostream &os);

// The models a file defines, in order (empty if it cannot be parsed).
std::vector<std::string> listModels(const std::string &path, DiagnosticEngine &diag);

// "[4, 8]" ("[]" for a scalar).
std::string formatShape(const std::vector<int64_t> &shape);

// Number of elements of a shape (1 for a scalar).
int64_t numElements(const std::vector<int64_t> &shape);

} // namespace nnc::dsl
