// Load.cpp: reading a .nn file and loading everything it imports.
#include "Checker.h"
#include "nnc/dsl/Parser.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace nnc::dsl::detail {

namespace {

constexpr size_t kMaxFileSize = size_t(64) << 20;

std::string importPath(const std::string &module, const std::string &importer,
                       const FrontendOptions &opts, bool &isStd) {
  std::string rel;
  std::string rest = module;
  isStd = module.rfind("std.", 0) == 0;
  if (isStd)
    rest = module.substr(4);
  for (char c : rest)
    rel += c == '.' ? '/' : c;
  rel += ".nn";
  if (isStd)
    return (fs::path(opts.stdlibDir.empty() ? "." : opts.stdlibDir) / rel)
        .lexically_normal()
        .string();
  fs::path base = fs::path(importer).parent_path();
  return (base / rel).lexically_normal().string();
}

std::string canonicalKey(const std::string &path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  if (ec)
    return fs::path(path).lexically_normal().string();
  return p.string();
}

} // namespace

bool readFile(const std::string &path, std::string &out, std::string &why) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    why = "file not found";
    return false;
  }
  if (fs::is_directory(path, ec)) {
    why = "it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open the file";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  if (out.size() > kMaxFileSize) {
    why = "the file is too large";
    return false;
  }
  return true;
}

std::unique_ptr<Program> loadProgram(const std::string &source, const std::string &fileName,
                                     const FrontendOptions &opts, DiagnosticEngine &diag) {
  auto prog = std::make_unique<Program>();
  prog->mainFile = fileName;
  diag.addSource(fileName, source);
  prog->files.push_back(parseFile(fileName, source, diag));
  std::set<std::string> loaded = {canonicalKey(fileName)};
  for (size_t fi = 0; fi < prog->files.size(); ++fi) {
    // copy: prog->files grows while we iterate
    std::vector<ImportDecl> imports;
    for (const ImportDecl &imp : prog->files[fi]->imports)
      imports.push_back(imp);
    std::string importer = prog->files[fi]->path;
    for (const ImportDecl &imp : imports) {
      bool isStd = false;
      std::string path = importPath(imp.module, importer, opts, isStd);
      std::string key = canonicalKey(path);
      if (loaded.count(key))
        continue;
      std::string text, why;
      if (isStd && opts.stdlibDir.empty()) {
        diag.error(imp.loc, fmt::format("cannot import '{}': file not found (no standard library "
                                        "directory is configured)",
                                        imp.module));
        continue;
      }
      if (!readFile(path, text, why)) {
        diag.error(imp.loc,
                   fmt::format("cannot import '{}': {} (looked for '{}')", imp.module, why, path));
        continue;
      }
      loaded.insert(key);
      diag.addSource(path, text);
      prog->files.push_back(parseFile(path, text, diag));
    }
  }
  // the layer table: imported files first, so that a clash is reported in
  // the importing file
  for (auto fit = prog->files.rbegin(); fit != prog->files.rend(); ++fit) {
    const auto &f = *fit;
    for (const LayerDecl &l : f->layers) {
      if (isBuiltinFunction(l.name)) {
        diag.error(l.loc,
                   fmt::format("'{}' is a built-in function and cannot be a layer name", l.name));
        continue;
      }
      auto it = prog->layers.find(l.name);
      if (it != prog->layers.end()) {
        diag.error(l.loc, fmt::format("layer '{}' is already defined", l.name));
        diag.note(it->second->loc, "the first definition is here");
        continue;
      }
      prog->layers[l.name] = &l;
    }
  }
  return prog;
}

} // namespace nnc::dsl::detail
