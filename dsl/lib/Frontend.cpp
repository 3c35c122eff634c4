// Frontend.cpp: the front end's public entry points. The checker is
// declared in Checker.h and defined by concern in the Check*.cpp files;
// loading is in Load.cpp.
#include "nnc/dsl/Frontend.h"
#include "Checker.h"
#include "nnc/dsl/AST.h"
#include "nnc/dsl/Parser.h"

#include <fmt/format.h>

namespace nnc::dsl {

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool hasStep(const Graph &g) {
  bool cells = !g.scans.empty() && !g.timeParam.empty();
  return (cells || g.usesCache) && g.inputs.size() == 1;
}

namespace {

using detail::Checker;
using detail::loadProgram;
using detail::readFile;

std::optional<Graph> build(const std::string &source, const std::string &fileName,
                           const FrontendOptions &opts, DiagnosticEngine &diag,
                           const std::string &modelName) {
  int before = diag.errorCount();
  auto prog = loadProgram(source, fileName, opts, diag);
  Checker checker(*prog, opts, diag);
  auto g = checker.run(modelName);
  if (diag.errorCount() > before)
    return std::nullopt;
  if (opts.buildStep && hasStep(*g)) {
    FrontendOptions stepOpts = opts;
    stepOpts.buildStep = false;
    if (g->usesCache)
      stepOpts.cacheStep = true;
    else
      stepOpts.overrides[g->timeParam] = 1;
    Checker stepChecker(*prog, stepOpts, diag);
    auto step = stepChecker.run(modelName);
    if (diag.errorCount() > before)
      return std::nullopt;
    g->step = std::make_shared<const Graph>(std::move(*step));
  }
  return g;
}

} // namespace

std::optional<Graph> buildGraphFromSource(const std::string &source, const std::string &fileName,
                                          const FrontendOptions &opts, DiagnosticEngine &diag,
                                          const std::string &modelName) {
  return build(source, fileName, opts, diag, modelName);
}

std::optional<Graph> buildGraph(const std::string &path, const FrontendOptions &opts,
                                DiagnosticEngine &diag, const std::string &modelName) {
  std::string text, why;
  if (!readFile(path, text, why)) {
    diag.error(Loc{path, 0, 0}, fmt::format("cannot read '{}': {}", path, why));
    return std::nullopt;
  }
  return build(text, path, opts, diag, modelName);
}

bool dumpASTFromSource(const std::string &source, const std::string &fileName,
                       const FrontendOptions &, DiagnosticEngine &diag, std::ostream &os) {
  int before = diag.errorCount();
  diag.addSource(fileName, source);
  auto file = parseFile(fileName, source, diag);
  if (diag.errorCount() > before)
    return false;
  printAST(*file, os);
  return true;
}

bool dumpAST(const std::string &path, const FrontendOptions &opts, DiagnosticEngine &diag,
             std::ostream &os) {
  std::string text, why;
  if (!readFile(path, text, why)) {
    diag.error(Loc{path, 0, 0}, fmt::format("cannot read '{}': {}", path, why));
    return false;
  }
  return dumpASTFromSource(text, path, opts, diag, os);
}

std::vector<std::string> listModels(const std::string &path, DiagnosticEngine &diag) {
  std::string text, why;
  if (!readFile(path, text, why))
    return {};
  DiagnosticEngine quiet;
  auto file = parseFile(path, text, quiet);
  (void)diag;
  std::vector<std::string> names;
  for (const ModelDecl &m : file->models)
    names.push_back(m.name);
  return names;
}

} // namespace nnc::dsl
