// Diagnostics.h: error reporting for the .nn front end.
//
// Every diagnostic is printed as
//   file:line:col: error: message
//   <the source line>
//   <spaces>^
// The engine keeps the text of every file it has seen so it can print the
// source line; it also records every diagnostic for tests and tools.
#pragma once

#include "nnc/dsl/Graph.h"

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace nnc::dsl {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  Loc loc;
  std::string message;
};

class DiagnosticEngine {
public:
  // Diagnostics are printed to `os` as they are reported (nullptr: only
  // recorded, see diagnostics()).
  explicit DiagnosticEngine(std::ostream *os = nullptr);
  explicit DiagnosticEngine(std::ostream &os) : DiagnosticEngine(&os) {}

  // Registers the text of a file so that diagnostics can show its lines.
  void addSource(const std::string &file, std::string text);
  // The registered text of `file` (nullptr if unknown).
  const std::string *source(const std::string &file) const;

  void error(const Loc &loc, const std::string &message);
  void warning(const Loc &loc, const std::string &message);
  // A note belongs to the error or warning reported just before it.
  void note(const Loc &loc, const std::string &message);

  int errorCount() const { return errors_; }
  int warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ > 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }

  // After this many errors further ones are counted but not printed.
  void setErrorLimit(int limit) { errorLimit_ = limit; }

  // Formats one diagnostic the way it is printed (with the source line and
  // caret when the line is known).
  std::string format(const Diagnostic &d) const;
  // All recorded diagnostics, formatted, in order.
  std::string str() const;

private:
  void report(Severity sev, const Loc &loc, const std::string &message);

  std::ostream *os_;
  std::map<std::string, std::string> sources_;
  std::vector<Diagnostic> diags_;
  std::map<std::string, bool> seen_; // loc+message of errors already reported
  int errors_ = 0, warnings_ = 0;
  int errorLimit_ = 100;
  bool suppressNotes_ = false;
  bool limitReported_ = false;
};

} // namespace nnc::dsl
