#include "nnc/dsl/Diagnostics.h"

#include <fmt/format.h>

namespace nnc::dsl {

DiagnosticEngine::DiagnosticEngine(std::ostream *os) : os_(os) {}

void DiagnosticEngine::addSource(const std::string &file, std::string text) {
  sources_[file] = std::move(text);
}

const std::string *DiagnosticEngine::source(const std::string &file) const {
  auto it = sources_.find(file);
  return it == sources_.end() ? nullptr : &it->second;
}

void DiagnosticEngine::error(const Loc &loc, const std::string &message) {
  report(Severity::Error, loc, message);
}
void DiagnosticEngine::warning(const Loc &loc, const std::string &message) {
  report(Severity::Warning, loc, message);
}
void DiagnosticEngine::note(const Loc &loc, const std::string &message) {
  report(Severity::Note, loc, message);
}

void DiagnosticEngine::report(Severity sev, const Loc &loc, const std::string &message) {
  if (sev == Severity::Note) {
    if (suppressNotes_)
      return;
  } else {
    // The same error at the same place (e.g. from a layer body that is
    // instantiated several times) is reported once.
    std::string key = fmt::format("{}:{}:{}:{}:{}", int(sev), loc.file, loc.line, loc.col, message);
    if (seen_.count(key)) {
      suppressNotes_ = true;
      return;
    }
    seen_[key] = true;
    if (sev == Severity::Error)
      ++errors_;
    else
      ++warnings_;
    suppressNotes_ = false;
    if (sev == Severity::Error && errors_ > errorLimit_) {
      suppressNotes_ = true;
      if (!limitReported_) {
        limitReported_ = true;
        if (os_)
          *os_ << "error: too many errors emitted, stopping now\n";
      }
      return;
    }
  }
  Diagnostic d{sev, loc, message};
  diags_.push_back(d);
  if (os_) {
    *os_ << format(d);
    os_->flush();
  }
}

static std::string lineOf(const std::string &text, int line) {
  if (line < 1)
    return {};
  size_t pos = 0;
  for (int l = 1; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos)
      return {};
    ++pos;
  }
  size_t end = text.find('\n', pos);
  if (end == std::string::npos)
    end = text.size();
  std::string s = text.substr(pos, end - pos);
  if (!s.empty() && s.back() == '\r')
    s.pop_back();
  return s;
}

std::string DiagnosticEngine::format(const Diagnostic &d) const {
  const char *kind = d.severity == Severity::Error     ? "error"
                     : d.severity == Severity::Warning ? "warning"
                                                       : "note";
  std::string out;
  if (d.loc.file.empty())
    out = fmt::format("{}: {}\n", kind, d.message);
  else if (d.loc.line <= 0)
    out = fmt::format("{}: {}: {}\n", d.loc.file, kind, d.message);
  else
    out = fmt::format("{}:{}:{}: {}: {}\n", d.loc.file, d.loc.line, d.loc.col, kind, d.message);
  const std::string *text = source(d.loc.file);
  if (!text || d.loc.line <= 0)
    return out;
  int nlines = 1;
  for (char c : *text)
    nlines += c == '\n';
  if (d.loc.line > nlines)
    return out;
  std::string line = lineOf(*text, d.loc.line);
  if (line.size() > 400)
    line = line.substr(0, 400) + "...";
  // Show the line with control characters and invalid UTF-8 as '?', and
  // put the caret under column `col` (a byte column), counting one position
  // per character.
  std::string shown, caret;
  int col = d.loc.col < 1 ? 1 : d.loc.col;
  size_t i = 0;
  while (i < line.size()) {
    unsigned char c = line[i];
    size_t len = 1;
    if (c >= 0x80) {
      len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
      bool valid = len != 0 && c >= 0xC2 && i + len <= line.size();
      for (size_t k = 1; valid && k < len; ++k)
        valid = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
      if (valid)
        shown += line.substr(i, len);
      else {
        shown += '?';
        len = 1;
      }
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      shown += '?';
    } else {
      shown += char(c);
    }
    if (int(i) + 1 < col)
      caret += c == '\t' ? '\t' : ' ';
    i += len;
  }
  for (int k = int(line.size()); k + 1 < col && k < 400; ++k)
    caret += ' ';
  out += shown + "\n" + caret + "^\n";
  return out;
}

std::string DiagnosticEngine::str() const {
  std::string out;
  for (const Diagnostic &d : diags_)
    out += format(d);
  return out;
}

} // namespace nnc::dsl
