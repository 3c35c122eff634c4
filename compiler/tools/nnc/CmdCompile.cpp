// CmdCompile.cpp: nnc compile: a stage printed (--emit), or an object, a
// static library and a header for an app to link (-o DIR).
#include "CsvData.h"
#include "Driver.h"
#include "nnc/dsl/Frontend.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

namespace nnc::tool {

namespace {

bool writeFile(const std::string &path, llvm::StringRef data, std::string &err) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    err = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  os << data;
  return true;
}

} // namespace

int cmdCompile(const Args &a) {
  std::string emit = a.get("emit");
  if (emit == "ast") {
    if (a.file.empty())
      return fail("no model file given");
    dsl::DiagnosticEngine diag(std::cerr);
    dsl::FrontendOptions fo;
    fo.stdlibDir = stdlibDir();
    return dsl::dumpAST(a.file, fo, diag, std::cout) ? 0 : 1;
  }
  static const std::map<std::string, Stage> stages = {
      {"nn", Stage::NN},           {"nn-train", Stage::NNTrain},         {"linalg", Stage::Linalg},
      {"buffers", Stage::Buffers}, {"llvm-dialect", Stage::LLVMDialect}, {"llvm", Stage::LLVMIR},
      {"asm", Stage::Asm}};
  if (!emit.empty() && !stages.count(emit))
    return fail("--emit expects ast, nn, nn-train, linalg, buffers, llvm-dialect, llvm "
                "or asm, got '" +
                emit + "'");
  if (emit.empty() && !a.has("o"))
    return fail("compile needs -o DIR (or --emit=STAGE to print a stage)");
  // An nn module that --emit=nn printed compiles too: its batch and step
  // are in it, and the flags give the optimizer and the target.
  bool module = llvm::StringRef(a.file).endswith(".mlir");
  std::optional<dsl::Graph> g;
  std::string err;
  std::optional<CodeGenOptions> o;
  if (module) {
    if (a.has("batch"))
      return fail("--batch does not apply to '" + a.file +
                  "': an nn module's batch is in "
                  "its types (give --batch to the --emit=nn that printed it)");
    if (!llvm::sys::fs::exists(a.file))
      return fail("cannot read '" + a.file + "'");
    o = codegenOptions(a, dsl::Graph{}, err);
  } else {
    // Recurrent and attention models get their generation entry point in
    // the library too.
    g = loadGraph(a, /*withStep=*/true);
    if (!g || !checkDataClasses(*g))
      return 1;
    o = codegenOptions(a, *g, err);
  }
  if (!o)
    return fail(err);
  o->stepGraph = g ? g->step.get() : nullptr;
  auto compile = [&](Stage stage, llvm::raw_ostream *os, llvm::SmallVectorImpl<char> *obj,
                     ModelABI *abi) {
    return module ? compileModuleFile(a.file, *o, stage, os, obj, abi)
                  : compileModel(*g, *o, stage, os, obj, abi);
  };
  if (!emit.empty()) {
    std::cout.flush();
    llvm::raw_fd_ostream &os = llvm::outs();
    return mlir::failed(compile(stages.at(emit), &os, nullptr, nullptr)) ? 1 : 0;
  }
  llvm::SmallVector<char, 0> obj;
  ModelABI abi;
  if (mlir::failed(compile(Stage::Object, nullptr, &obj, &abi)))
    return 1;
  std::string dir = a.get("o");
  if (std::error_code ec = llvm::sys::fs::create_directories(dir + "/nnrt"))
    return fail("cannot create '" + dir + "': " + ec.message());
  std::string include = runtimeIncludeDir();
  std::ifstream abiHeader(include + "/nnrt/nnrt_abi.h");
  std::string abiText((std::istreambuf_iterator<char>(abiHeader)),
                      std::istreambuf_iterator<char>());
  if (abiText.empty())
    return fail("cannot read nnrt_abi.h from " + include);
  if (!writeStaticLibrary(dir + "/lib" + abi.prefix + ".a", abi.prefix, obj, err) ||
      !writeFile(dir + "/" + abi.prefix + ".h", writeHeader(abi), err) ||
      !writeFile(dir + "/nnrt/nnrt_abi.h", abiText, err))
    return fail(err);
  return 0;
}

} // namespace nnc::tool
