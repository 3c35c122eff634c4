// Summary.h: helpers for `nnc summary`'s table.
#pragma once

#include "nnc/CodeGen/Pipeline.h"
#include "nnc/dsl/Graph.h"

#include <string>
#include <vector>

namespace nnc::tool {

// The parameters no layer row counts: those a model body declares itself
// (`param P[T, C]`), which the table lists as rows of their own so that
// its rows add up to the total.
std::vector<const dsl::Param *> modelLevelParams(const dsl::Graph &g);

// "[128, 128]": a parameter's shape, with no batch dimension (a layer's
// output shape is "(None, ...)").
std::string paramShape(const dsl::Param &p);

// The lines after the table: parameter, optimizer-state and workspace bytes
// at `opts.batch`, and the FLOPs per example the compiler counted.
void printCompiledFacts(const ModelABI &abi, const CodeGenOptions &opts);

} // namespace nnc::tool
