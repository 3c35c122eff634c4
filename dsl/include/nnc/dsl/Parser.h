// Parser.h: .nn source text -> FileAST. Syntax errors are reported to the
// DiagnosticEngine; the parser recovers at the next line so that every
// error of a file is reported in one run.
#pragma once

#include "nnc/dsl/AST.h"
#include "nnc/dsl/Diagnostics.h"

#include <memory>
#include <string>

namespace nnc::dsl {

// Expressions (and brackets) nested deeper than this are rejected.
constexpr int kMaxExprDepth = 256;

// Parses `text` (the contents of `path`). Always returns a FileAST, possibly
// partial; check diag.errorCount() for syntax errors.
std::unique_ptr<FileAST> parseFile(const std::string &path, const std::string &text,
                                   DiagnosticEngine &diag);

} // namespace nnc::dsl
