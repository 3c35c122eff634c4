// LLVM's work on units (CodeGenOptions::codegenThreads, objectCacheDir):
// each kernel is optimized and compiled apart, on several threads, and the
// objects are bundled. The result must compute exactly what the one-thread
// build computes; an app that links the objects must see only the entry
// points and the model table; the object cache must give back the same
// code, recompile only the kernels a changed model adds, and survive a
// damaged entry. Also the bundle format's checks (a damaged bundle must
// not load).
#include "NumericHelpers.h"

#include "nnc/dsl/Frontend.h"

#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"

#include <catch2/catch.hpp>

#include <set>

#include <cstring>
#include <sstream>

using namespace nnc;
using namespace nnc::numtest;

namespace {

// Several entry points, parallel loops (batch 64 products) and an LSTM scan:
// enough functions for three parts, with calls and the model table between
// them.
const char *kModel = "import std.rnn\n"
                     "model P(vocab V = 12, window T = 6) {\n"
                     "  input  words: int[T]\n"
                     "  target next:  int\n"
                     "  e = Embedding(V, 16)(words)\n"
                     "  h = LSTM(24).last(e)\n"
                     "  d = Dense(48, activation = tanh)(h)\n"
                     "  logits = Dense(V)(d)\n"
                     "  output probs = softmax(logits)\n"
                     "  loss cross_entropy(logits, next)\n"
                     "}\n";

struct Run {
  std::vector<float> params, probs;
  std::vector<float> losses;
};

Run train(const Compiled &c) {
  Run r;
  r.params.assign(size_t(c.m->num_params), 0.0f);
  c.m->init(r.params.data(), 5);
  std::vector<float> state(size_t(c.m->opt_state_size), 0.0f);
  IOBuffers io(*c.m);
  Rng rng(3);
  for (int step = 1; step <= 4; ++step) {
    for (int32_t &w : io.inputs[0].ints)
      w = int32_t(rng.next() % 12);
    for (int32_t &t : io.targets[0].ints)
      t = int32_t(rng.next() % 12);
    std::fill(io.weights.begin(), io.weights.end(), 1.0f);
    float hyper[NNRT_HYPER_COUNT] = {0.01f, float(step), 0, 0};
    auto tio = io.trainIO();
    r.losses.push_back(
        c.m->train_step(r.params.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m)));
  }
  auto tio = io.trainIO();
  r.losses.push_back(c.m->eval_step(r.params.data(), tio.data(), numtest::workspace(c.m)));
  auto pio = io.predictIO();
  c.m->predict(r.params.data(), pio.data(), numtest::workspace(c.m));
  r.probs = io.outputs[0].floats;
  return r;
}

CodeGenOptions options(unsigned threads, const std::string &cacheDir = "") {
  CodeGenOptions o = forTestTarget(adamOptions(64));
  o.codegenThreads = threads;
  o.objectCacheDir = cacheDir;
  return o;
}

std::vector<char> compileBlob(unsigned threads, const std::string &cacheDir = "",
                              const char *model = kModel) {
  std::ostringstream diags;
  dsl::DiagnosticEngine diag(diags);
  dsl::FrontendOptions fo;
  fo.stdlibDir = NNC_STDLIB_DIR;
  auto g = dsl::buildGraphFromSource(model, "parallel.nn", fo, diag);
  REQUIRE(g);
  llvm::SmallVector<char, 0> obj;
  REQUIRE(
      mlir::succeeded(compileModel(*g, options(threads, cacheDir), Stage::Object, nullptr, &obj)));
  return std::vector<char>(obj.begin(), obj.end());
}

std::vector<std::string> cachedFiles(const std::string &dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
    files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

// The symbols the objects define for an app to see (global, not hidden).
std::set<std::string> exportedSymbols(llvm::ArrayRef<llvm::ArrayRef<char>> objects) {
  std::set<std::string> names;
  for (llvm::ArrayRef<char> obj : objects) {
    auto file = llvm::object::ObjectFile::createObjectFile(
        llvm::MemoryBufferRef(llvm::StringRef(obj.data(), obj.size()), "model.o"));
    REQUIRE(bool(file));
    for (const llvm::object::SymbolRef &sym : (*file)->symbols()) {
      auto flags = sym.getFlags();
      auto name = sym.getName();
      REQUIRE(bool(flags));
      REQUIRE(bool(name));
      if ((*flags & llvm::object::SymbolRef::SF_Global) &&
          !(*flags & llvm::object::SymbolRef::SF_Hidden) &&
          !(*flags & llvm::object::SymbolRef::SF_Undefined))
        names.insert(name->str());
    }
  }
  return names;
}

} // namespace

TEST_CASE("unit codegen: kernels compiled apart on 1 and 3 threads train alike", "[codegen]") {
  std::vector<char> one = compileBlob(1), three = compileBlob(3);
  std::vector<llvm::ArrayRef<char>> parts;
  REQUIRE(splitObjectBundle(one, parts));
  CHECK(parts.size() > 3); // the kernels and the entry points
  for (auto p : parts)
    CHECK(p.size() > 64);
  CHECK(exportedSymbols(parts) ==
        std::set<std::string>{"p_model", "p_init", "p_predict", "p_predict_io", "p_train_step",
                              "p_train_step_io", "p_eval_step", "p_eval_step_io", "p_grad_step",
                              "p_grad_step_io", "p_apply_step"});
  CHECK(one == three); // the same objects, in the same order

  Compiled a = compileSource(kModel, options(1), "parallel.nn");
  Compiled b = compileSource(kModel, options(3), "parallel.nn");
  Run ra = train(a), rb = train(b);
  INFO("losses " << ra.losses[0] << " ... " << ra.losses.back());
  CHECK(ra.losses == rb.losses);
  CHECK(ra.params == rb.params);
  CHECK(ra.probs == rb.probs);
  CHECK(ra.losses.front() > 0.0f);
}

TEST_CASE("unit codegen: the object cache gives back the same code and recompiles only what "
          "changed",
          "[codegen]") {
  llvm::SmallString<128> dir;
  REQUIRE(!llvm::sys::fs::createUniqueDirectory("nnc-units", dir));
  std::string cache = dir.str().str();
  std::vector<char> cold = compileBlob(2, cache);
  std::vector<llvm::ArrayRef<char>> parts;
  REQUIRE(splitObjectBundle(cold, parts));
  std::vector<std::string> files = cachedFiles(cache);
  CHECK(files.size() == parts.size()); // every kernel and the entry points

  // Again: every object from the cache, the same code.
  std::vector<char> warm = compileBlob(2, cache);
  CHECK(cachedFiles(cache) == files);
  CHECK(warm == cold); // the same library whatever the cache held
  Run ra = train(compileSource(kModel, options(1), "parallel.nn"));
  Run rb = train(compileSource(kModel, options(2, cache), "parallel.nn"));
  CHECK(ra.losses == rb.losses);
  CHECK(ra.params == rb.params);

  // A damaged entry is compiled again and replaced.
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(files[0], ec);
    REQUIRE(!ec);
    out << "not an object";
  }
  Run rc = train(compileSource(kModel, options(2, cache), "parallel.nn"));
  CHECK(ra.losses == rc.losses);
  uint64_t size = 0;
  REQUIRE(!llvm::sys::fs::file_size(files[0], size));
  CHECK(size > 64);

  // One layer wider: its kernels and the entry points are new, the rest
  // (the LSTM, the embedding) come from the cache.
  std::string wider = kModel;
  wider.replace(wider.find("Dense(48"), 8, "Dense(40");
  compileBlob(2, cache, wider.c_str());
  size_t added = cachedFiles(cache).size() - files.size();
  CHECK(added >= 2);
  CHECK(added < parts.size() / 2);
  llvm::sys::fs::remove_directories(cache);
}

TEST_CASE("unit codegen: a damaged bundle does not load", "[codegen]") {
  std::vector<char> blob = compileBlob(2);
  std::vector<llvm::ArrayRef<char>> parts;
  REQUIRE(splitObjectBundle(blob, parts));
  REQUIRE(parts.size() > 2);
  std::string err;
  CHECK(loadObject(blob, "p", err) != nullptr);

  std::vector<char> cut(blob.begin(), blob.end() - 1); // the last object short
  CHECK_FALSE(splitObjectBundle(cut, parts));
  CHECK(loadObject(cut, "p", err) == nullptr);
  CHECK(err.find("damaged") != std::string::npos);

  std::vector<char> longer = blob;
  longer.push_back(0); // bytes after the last object
  CHECK_FALSE(splitObjectBundle(longer, parts));

  std::vector<char> header(blob.begin(), blob.begin() + 16);
  std::memset(header.data() + 8, 0, 8); // no objects
  CHECK_FALSE(splitObjectBundle(header, parts));
  std::vector<char> huge = header;
  uint64_t n = 1000000;
  std::memcpy(huge.data() + 8, &n, 8);
  CHECK_FALSE(splitObjectBundle(huge, parts));
}
