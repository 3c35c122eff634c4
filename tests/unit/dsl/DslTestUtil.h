// Helpers shared by the front-end unit tests.
#pragma once

#include "nnc/dsl/Frontend.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace nnc::dsl::test {

struct BuildResult {
  std::optional<Graph> graph;
  std::string output; // everything the DiagnosticEngine printed
  int errors = 0;
  std::vector<Diagnostic> diags;
};

inline BuildResult buildSource(const std::string &src, const std::string &model = "",
                               const std::string &file = "test.nn") {
  std::ostringstream os;
  DiagnosticEngine diag(os);
  FrontendOptions opts{NNC_STDLIB_DIR};
  BuildResult r;
  r.graph = buildGraphFromSource(src, file, opts, diag, model);
  r.output = os.str();
  r.errors = diag.errorCount();
  r.diags = diag.diagnostics();
  return r;
}

// The first error's "line:col: error: message" part (without the file).
inline std::string firstError(const BuildResult &r) {
  for (const Diagnostic &d : r.diags)
    if (d.severity == Severity::Error)
      return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message;
  return "";
}

inline const Node *findNode(const Graph &g, const std::string &name) {
  for (const Node &n : g.nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

inline const Param *findParam(const Graph &g, const std::string &name) {
  for (const Param &p : g.params)
    if (p.name == name)
      return &p;
  return nullptr;
}

} // namespace nnc::dsl::test
