// LLVM's optimization and code generation on several threads
// (CodeGenOptions::codegenThreads). `nnc train` takes a bundle of objects
// whose parts call each other across objects; `nnc compile` one object whose
// parts were optimized apart and linked back. Both must compute exactly what
// the one-thread build computes, and the linked object must export exactly
// the one-thread object's symbols (an app links it beside others). Also the
// bundle format's checks (a damaged bundle must not load).
#include "NumericHelpers.h"

#include "nnc/dsl/Frontend.h"

#include "llvm/Object/ObjectFile.h"

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
    r.losses.push_back(c.m->train_step(r.params.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m)));
  }
  auto tio = io.trainIO();
  r.losses.push_back(c.m->eval_step(r.params.data(), tio.data(), numtest::workspace(c.m)));
  auto pio = io.predictIO();
  c.m->predict(r.params.data(), pio.data(), numtest::workspace(c.m));
  r.probs = io.outputs[0].floats;
  return r;
}

CodeGenOptions options(unsigned threads, bool bundle = true) {
  CodeGenOptions o = forTestTarget(adamOptions(64));
  o.codegenThreads = threads;
  o.objectBundle = bundle;
  return o;
}

std::vector<char> compileBlob(unsigned threads, bool bundle = true) {
  std::ostringstream diags;
  dsl::DiagnosticEngine diag(diags);
  dsl::FrontendOptions fo;
  fo.stdlibDir = NNC_STDLIB_DIR;
  auto g = dsl::buildGraphFromSource(kModel, "parallel.nn", fo, diag);
  REQUIRE(g);
  llvm::SmallVector<char, 0> obj;
  REQUIRE(mlir::succeeded(compileModel(*g, options(threads, bundle), Stage::Object, nullptr, &obj)));
  return std::vector<char>(obj.begin(), obj.end());
}

// The object's symbols that other objects can see (defined or needed).
std::set<std::string> globalSymbols(const std::vector<char> &obj) {
  auto file = llvm::object::ObjectFile::createObjectFile(
      llvm::MemoryBufferRef(llvm::StringRef(obj.data(), obj.size()), "model.o"));
  REQUIRE(bool(file));
  std::set<std::string> names;
  for (const llvm::object::SymbolRef &sym : (*file)->symbols()) {
    auto flags = sym.getFlags();
    auto name = sym.getName();
    REQUIRE(bool(flags));
    REQUIRE(bool(name));
    if (*flags & llvm::object::SymbolRef::SF_Global)
      names.insert(name->str());
  }
  return names;
}

} // namespace

TEST_CASE("parallel codegen: a bundle of parts trains exactly as one object", "[codegen]") {
  std::vector<char> one = compileBlob(1), three = compileBlob(3);
  std::vector<llvm::ArrayRef<char>> parts;
  REQUIRE(splitObjectBundle(one, parts));
  CHECK(parts.size() == 1);
  CHECK(parts[0].size() == one.size()); // a plain object passes through
  REQUIRE(splitObjectBundle(three, parts));
  REQUIRE(parts.size() == 3);
  for (auto p : parts)
    CHECK(p.size() > 64);

  Compiled a = compileSource(kModel, options(1), "parallel.nn");
  Compiled b = compileSource(kModel, options(3), "parallel.nn");
  Run ra = train(a), rb = train(b);
  INFO("losses " << ra.losses[0] << " ... " << ra.losses.back());
  CHECK(ra.losses == rb.losses);
  CHECK(ra.params == rb.params);
  CHECK(ra.probs == rb.probs);
  CHECK(ra.losses.front() > 0.0f);
}

TEST_CASE("parallel codegen: parts optimized apart and linked back make one object",
          "[codegen]") {
  std::vector<char> one = compileBlob(1), linked = compileBlob(3, /*bundle=*/false);
  std::vector<llvm::ArrayRef<char>> parts;
  REQUIRE(splitObjectBundle(linked, parts));
  CHECK(parts.size() == 1); // not a bundle
  std::set<std::string> want = globalSymbols(one), got = globalSymbols(linked);
  CHECK(want.count("p_model") == 1);
  CHECK(want.count("p_train_step_io") == 1);
  CHECK(got == want); // the parts' internal functions are internal again

  Compiled a = compileSource(kModel, options(1), "parallel.nn");
  Compiled b = compileSource(kModel, options(3, false), "parallel.nn");
  Run ra = train(a), rb = train(b);
  CHECK(ra.losses == rb.losses);
  CHECK(ra.params == rb.params);
  CHECK(ra.probs == rb.probs);
}

TEST_CASE("parallel codegen: a damaged bundle does not load", "[codegen]") {
  std::vector<char> blob = compileBlob(2);
  std::vector<llvm::ArrayRef<char>> parts;
  REQUIRE(splitObjectBundle(blob, parts));
  REQUIRE(parts.size() == 2);
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
