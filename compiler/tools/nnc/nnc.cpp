// nnc: the command-line compiler and trainer for .nn models.
//
//   nnc train   M.nn [--data PATH] [--epochs N] [--batch N] [--lr X]
//                    [--optimizer sgd|adam|rmsprop] [--seed N] [--save CKPT]
//                    [--metrics-out FILE] [--quiet]
//   nnc predict M.nn --checkpoint CKPT [--input FILE|-]
//   nnc generate M.nn --checkpoint CKPT --prompt TEXT [--tokens N ...]
//   nnc chat    M.nn --checkpoint CKPT   (stories and questions on stdin)
//   nnc compile M.nn -o DIR | --emit=ast|nn|nn-train|linalg|buffers|llvm-dialect|llvm|asm
//   nnc summary M.nn
#include "Checkpoint.h"
#include "CsvData.h"
#include "Summary.h"
#include "nnc/CodeGen/Pipeline.h"
#include "nnc/dsl/Frontend.h"
#include "nnc/CodeGen/Timing.h"
#include "nnrt/nnrt.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace nnc;

namespace {

const char *kUsage =
    "usage: nnc <command> MODEL.nn [options]\n"
    "commands:\n"
    "  train     compile the model and train it with its train block\n"
    "            --data PATH --epochs N --batch N --lr X --seed N\n"
    "            --optimizer sgd|adam|rmsprop --save CKPT --metrics-out FILE\n"
    "            --quiet --model NAME --target-cpu CPU\n"
    "            --resume CKPT (continue a run) --sample-every N (text models)\n"
    "            --check-numerics (every parameter finite after every step; the\n"
    "            loss of every step is always checked)\n"
    "            --init CKPT (start from the parameters of CKPT that have the\n"
    "            same names, e.g. a pretrained encoder; the others start fresh)\n"
    "  predict   classify rows of a CSV file (or stdin) with a checkpoint\n"
    "            --checkpoint CKPT [--input FILE|-] --model NAME\n"
    "  generate  write text with a trained recurrent or attention model\n"
    "            --checkpoint CKPT --prompt TEXT [--tokens N --temperature T\n"
    "            --top-k K --top-p P --seed S] [--recompute: run the whole\n"
    "            window again for every token instead of the step]\n"
    "  chat      answer questions about stories with a model trained on bAbI\n"
    "            data: --checkpoint CKPT; reads stdin: story lines, then a\n"
    "            question ending with '?' (answered as 'yes (0.97)'); an\n"
    "            empty line starts a new story\n"
    "  compile   write DIR/lib<model>.a and DIR/<model>.h\n"
    "            -o DIR [--batch N] [--target-cpu CPU] [--optimizer O]\n"
    "            --emit=ast|nn|nn-train|linalg|buffers|llvm-dialect|llvm|asm prints a stage\n"
    "  summary   print the layers, output shapes and parameter counts\n"
    "train, predict, generate and chat keep the compiled model in\n"
    "$NNC_CACHE_DIR (default ~/.cache/nnc) and reuse it while the model, the\n"
    "options and nnc are the same; NNC_CACHE=0 turns that off. LLVM's part of\n"
    "every compile runs on all cores; NNC_COMPILE_THREADS=N sets how many.\n";

int fail(const std::string &msg) {
  std::cerr << "nnc: error: " << msg << "\n";
  return 1;
}

// Parameters and optimizer state, from nnrt_alloc_floats (zeroed; huge pages
// for large models, so the products that stream the weights miss the TLB
// less).
class Floats {
public:
  Floats() = default;
  explicit Floats(int64_t n) : p_(nnrt_alloc_floats(n)) {
    if (!p_) {
      fail("out of memory for " + std::to_string(n) + " floats");
      std::exit(1);
    }
  }
  Floats(Floats &&o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Floats &operator=(Floats &&o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  Floats(const Floats &) = delete;
  Floats &operator=(const Floats &) = delete;
  ~Floats() { nnrt_free_floats(p_); }
  float *data() const { return p_; }

private:
  float *p_ = nullptr;
};

struct Args {
  std::string command, file;
  std::map<std::string, std::string> opts; // --name value, or "" for a switch
  std::vector<std::string> errors;

  bool has(const std::string &k) const { return opts.count(k); }
  std::string get(const std::string &k, const std::string &def = "") const {
    auto it = opts.find(k);
    return it == opts.end() ? def : it->second;
  }
};

const std::map<std::string, bool> kOptions = {
    // name -> takes a value
    {"data", true},   {"epochs", true},      {"batch", true},   {"lr", true},
    {"optimizer", true}, {"seed", true},     {"save", true},    {"metrics-out", true},
    {"quiet", false}, {"checkpoint", true},  {"input", true},   {"o", true},
    {"emit", true},   {"target-cpu", true},  {"model", true},   {"help", false},
    {"resume", true}, {"prompt", true},      {"tokens", true},  {"temperature", true},
    {"top-k", true},  {"top-p", true},       {"sample-every", true},
    {"recompute", false}, {"init", true},   {"check-numerics", false},
};

Args parseArgs(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.size() > 1 && s[0] == '-' && s != "-") {
      std::string name = s.substr(s[1] == '-' ? 2 : 1), value;
      bool inlineValue = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inlineValue = true;
      }
      auto it = kOptions.find(name);
      if (it == kOptions.end()) {
        a.errors.push_back("unknown option '" + s + "' (see nnc --help)");
        continue;
      }
      if (it->second && !inlineValue) {
        if (i + 1 >= argc) {
          a.errors.push_back("option '" + s + "' expects a value");
          continue;
        }
        value = argv[++i];
      }
      a.opts[name] = value;
    } else if (a.command.empty()) {
      a.command = s;
    } else if (a.file.empty()) {
      a.file = s;
    } else {
      a.errors.push_back("unexpected argument '" + s + "'");
    }
  }
  return a;
}

std::optional<int64_t> parseInt(const std::string &flag, const std::string &s,
                                int64_t min, std::string &err) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < min) {
    err = "--" + flag + " expects an integer >= " + std::to_string(min) + ", got '" + s + "'";
    return std::nullopt;
  }
  return v;
}

std::optional<double> parseFloat(const std::string &flag, const std::string &s,
                                 std::string &err) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v) || v <= 0) {
    err = "--" + flag + " expects a positive number, got '" + s + "'";
    return std::nullopt;
  }
  return v;
}

std::optional<dsl::Graph> loadGraph(const Args &a) {
  if (a.file.empty()) {
    std::cerr << "nnc: error: no model file given\n" << kUsage;
    return std::nullopt;
  }
  mlir::TimingScope timing = compileTiming().nest("front end");
  dsl::DiagnosticEngine diag(std::cerr);
  dsl::FrontendOptions fo;
  const char *env = std::getenv("NNC_STDLIB");
  fo.stdlibDir = env ? env : NNC_STDLIB_DIR;
  return dsl::buildGraph(a.file, fo, diag, a.get("model"));
}

// The model built again with one time step, for the generation entry point:
// models with recurrent cells and a time parameter (cells carry their
// states), and models with attention caches (one position, keys and values
// of earlier positions cached).
std::unique_ptr<dsl::Graph> loadStepGraph(const Args &a, const dsl::Graph &g) {
  bool cells = !g.scans.empty() && !g.timeParam.empty();
  // Generation feeds one token per step: a model of several inputs (a
  // question answerer) has no step, whatever its cells.
  if ((!cells && !g.usesCache) || g.inputs.size() != 1)
    return nullptr;
  mlir::TimingScope timing = compileTiming().nest("front end, one-step graph");
  dsl::DiagnosticEngine diag(std::cerr);
  dsl::FrontendOptions fo;
  const char *env = std::getenv("NNC_STDLIB");
  fo.stdlibDir = env ? env : NNC_STDLIB_DIR;
  if (g.usesCache)
    fo.cacheStep = true;
  else
    fo.overrides[g.timeParam] = 1;
  auto sg = dsl::buildGraph(a.file, fo, diag, a.get("model"));
  if (!sg)
    return nullptr;
  return std::make_unique<dsl::Graph>(std::move(*sg));
}

// The compile cache's directory ("" when NNC_CACHE=0 or there is no home):
// whole models there (cachePath), and the units of every compile, kernels
// by their content, in units/ (CodeGenOptions::objectCacheDir).
std::string cacheDir() {
  const char *off = std::getenv("NNC_CACHE");
  if (off && std::string(off) == "0")
    return "";
  if (const char *d = std::getenv("NNC_CACHE_DIR"); d && *d)
    return d;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/nnc";
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/nnc";
  return "";
}

// Code-generation options: the train block, then the flags.
// NNC_COMPILE_THREADS=N, else the cores there are (at most 8).
unsigned compileThreads() {
  if (const char *env = std::getenv("NNC_COMPILE_THREADS")) {
    unsigned n = 0;
    if (!llvm::StringRef(env).getAsInteger(10, n) && n >= 1 && n <= 64)
      return n;
    std::cerr << "nnc: warning: NNC_COMPILE_THREADS='" << env
              << "' is not a number from 1 to 64; using the cores there are\n";
  }
  return std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
}

std::optional<CodeGenOptions> codegenOptions(const Args &a, const dsl::Graph &g,
                                             std::string &err) {
  CodeGenOptions o;
  const dsl::TrainConfig &t = g.train;
  o.batch = t.present ? t.batch : 32;
  o.optimizer.name = t.present ? t.optimizer : "adam";
  auto num = [&](const char *k, float &dst) {
    auto it = t.optimizerArgs.find(k);
    if (it != t.optimizerArgs.end() && it->second.number)
      dst = float(*it->second.number);
  };
  num("beta1", o.optimizer.beta1);
  num("beta2", o.optimizer.beta2);
  num("epsilon", o.optimizer.epsilon);
  num("momentum", o.optimizer.momentum);
  num("rho", o.optimizer.rho);
  if (a.has("batch")) {
    auto b = parseInt("batch", a.get("batch"), 1, err);
    if (!b)
      return std::nullopt;
    o.batch = *b;
  }
  if (a.has("optimizer")) {
    std::string n = a.get("optimizer");
    if (n != "sgd" && n != "adam" && n != "rmsprop") {
      err = "--optimizer expects sgd, adam or rmsprop, got '" + n + "'";
      return std::nullopt;
    }
    o.optimizer.name = n;
  }
  o.targetCPU = a.get("target-cpu");
  o.codegenThreads = compileThreads();
  if (std::string dir = cacheDir(); !dir.empty())
    o.objectCacheDir = dir + "/units";
  return o;
}

// Text corpora: the vocabulary and token windows or sequences of the train
// block's `data text(...)`.
struct TextData {
  nnrt_vocab vocab{};
  nnrt_dataset all{};
  std::string prompt; // the corpus's first window: the default sample prompt
  ~TextData() {
    nnrt_vocab_free(&vocab);
    nnrt_dataset_free(&all);
  }
};

bool loadText(const dsl::Graph &g, const std::string &path, TextData &td,
              nnrt_error &e) {
  const dsl::TrainConfig &t = g.train;
  auto arg = [&](const char *k) -> const dsl::TrainValue * {
    auto it = t.dataArgs.find(k);
    return it == t.dataArgs.end() ? nullptr : &it->second;
  };
  std::string tokens = arg("tokens") && arg("tokens")->string ? *arg("tokens")->string : "words";
  std::string mode = arg("mode") && arg("mode")->string ? *arg("mode")->string : "next";
  int64_t window = arg("window") && arg("window")->number ? int64_t(*arg("window")->number)
                   : g.inputs.empty() || g.inputs[0].shape.empty() ? 0
                                                                   : g.inputs[0].shape[0];
  char *text = nullptr;
  size_t len = 0;
  if (nnrt_text_load(path.c_str(), &text, &len, &e))
    return false;
  int kind = tokens == "chars" ? NNRT_TOKENS_CHARS : NNRT_TOKENS_WORDS;
  int32_t *ids = nullptr;
  int64_t n = 0;
  // The runtime's "the text has no words" knows no file name.
  if (nnrt_vocab_build(&td.vocab, kind, text, len, &e)) {
    std::free(text);
    std::string msg = path + ": " + e.msg + "; expected a text with " +
                      (kind == NNRT_TOKENS_CHARS ? "some characters" : "words (punctuation is dropped)");
    std::snprintf(e.msg, sizeof e.msg, "%s", msg.c_str());
    return false;
  }
  bool ok = nnrt_vocab_encode(&td.vocab, text, len, &ids, &n, &e) == 0 &&
            (mode == "sequence" ? nnrt_dataset_sequences(&td.all, ids, n, window, &e)
                                : nnrt_dataset_windows(&td.all, ids, n, window, &e)) == 0;
  if (ok) {
    char *p = nullptr;
    if (nnrt_vocab_decode(&td.vocab, ids, std::min<int64_t>(n, window), &p, &e) == 0) {
      td.prompt = p;
      std::free(p);
    }
  }
  std::free(ids);
  std::free(text);
  return ok;
}

// The model's vocabulary is the last dimension of its first output.
bool checkVocabulary(const nnrt_model *m, const nnrt_vocab &v, const std::string &path,
                     nnrt_error &e) {
  int first = -1;
  if (nnrt_model_count(m, NNRT_OUTPUT, &first) < 1)
    return true;
  const nnrt_tensor_info &out = m->tensors[first];
  int64_t size = out.rank ? out.shape[out.rank - 1] : 1;
  if (size < v.size) {
    std::snprintf(e.msg, sizeof e.msg,
                  "%s has a vocabulary of %d tokens but model '%s' predicts %lld: "
                  "set the model's vocabulary parameter to %d",
                  path.c_str(), v.size, m->name, (long long)size, v.size);
    return false;
  }
  return true;
}

struct Compiled {
  ModelABI abi;
  std::unique_ptr<LoadedModel> loaded;
  const nnrt_model *m = nullptr;
};

// The compile cache: `nnc train/predict/generate/chat` compile the model in
// process every time, which is minutes for a GPT; the object file is kept
// under $NNC_CACHE_DIR (default $XDG_CACHE_HOME/nnc or ~/.cache/nnc), named
// by a SHA-256 of everything it depends on: the model's nn-dialect module
// (the .nn files, imports and locations included), the options, the host
// CPU when no target is given, and this nnc executable itself (any change
// to the compiler is a new key); the 64 used last are kept. NNC_CACHE=0
// turns it off. A failed compile leaves nothing behind, so errors are
// reported again every time. Sets `failed` when building the module already
// fails (reported then).
std::string cachePath(const dsl::Graph &g, const CodeGenOptions &o, bool &failed) {
  std::string dir = cacheDir();
  if (dir.empty())
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  if (mlir::failed(compileModel(g, o, Stage::NN, &os, nullptr))) {
    failed = true;
    return "";
  }
  llvm::SHA256 h;
  h.update(os.str());
  const OptimizerConfig &opt = o.optimizer;
  std::ostringstream k;
  k.precision(9);
  k << '|' << o.batch << '|' << o.stepBatch << '|' << opt.name << '|' << opt.beta1 << '|'
    << opt.beta2 << '|' << opt.epsilon << '|' << opt.momentum << '|' << opt.rho << '|'
    << o.targetCPU << '|' << o.targetFeatures << '|';
  h.update(k.str());
  if (o.targetCPU.empty()) {
    h.update(llvm::sys::getHostCPUName());
    llvm::StringMap<bool> features;
    if (llvm::sys::getHostCPUFeatures(features))
      for (const auto &f : features)
        h.update(f.getKey().str() + (f.getValue() ? "+" : "-"));
  }
  auto self = llvm::MemoryBuffer::getFile("/proc/self/exe");
  if (!self)
    return ""; // no way to tell this compiler from another: no cache
  h.update((*self)->getBuffer());
  return dir + "/" + llvm::toHex(h.final(), /*LowerCase=*/true) + ".o";
}

// The cache keeps the kCacheEntries objects used last (a hit refreshes an
// object's time); storing one more removes the oldest, so the directory
// stays bounded without a size setting.
constexpr size_t kCacheEntries = 64;

void pruneCache(llvm::StringRef dir) {
  std::vector<std::pair<llvm::sys::TimePoint<>, std::string>> objects;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    llvm::sys::fs::file_status st;
    if (llvm::StringRef(it->path()).endswith(".o") && !llvm::sys::fs::status(it->path(), st))
      objects.emplace_back(st.getLastModificationTime(), it->path());
  }
  if (objects.size() <= kCacheEntries)
    return;
  std::sort(objects.begin(), objects.end());
  for (size_t i = 0; i + kCacheEntries < objects.size(); ++i)
    llvm::sys::fs::remove(objects[i].second);
}

// Writes `obj` to the cache as `path`, aside and then renamed: a reader
// never sees half an object. Failing to write only loses the cache entry.
void storeCached(const std::string &path, llvm::ArrayRef<char> obj) {
  llvm::SmallString<256> tmp;
  int fd = -1;
  if (llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)) ||
      llvm::sys::fs::createUniqueFile(path + ".%%%%%%.tmp", fd, tmp))
    return;
  llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
  out.write(obj.data(), obj.size());
  out.close();
  if (out.has_error() || llvm::sys::fs::rename(tmp, path)) {
    out.clear_error();
    llvm::sys::fs::remove(tmp);
    return;
  }
  pruneCache(llvm::sys::path::parent_path(path));
}

std::optional<Compiled> compileAndLoad(const dsl::Graph &g, const CodeGenOptions &o) {
  Compiled c;
  c.abi = describeModel(g, o);
  std::string err;
  bool failed = false;
  const std::string cached = cachePath(g, o, failed);
  if (failed)
    return std::nullopt;
  if (!cached.empty())
    if (auto buf = llvm::MemoryBuffer::getFile(cached)) {
      llvm::ArrayRef<char> obj((*buf)->getBufferStart(), (*buf)->getBufferSize());
      c.loaded = loadObject(obj, c.abi.prefix, err);
      if (!c.loaded) { // damaged: compile again and replace it
        llvm::sys::fs::remove(cached);
      } else if (int fd; !llvm::sys::fs::openFileForWrite(cached, fd, llvm::sys::fs::CD_OpenExisting,
                                                          llvm::sys::fs::OF_Append)) {
        llvm::sys::fs::setLastAccessAndModificationTime(fd, std::chrono::system_clock::now());
        llvm::sys::Process::SafelyCloseFileDescriptor(fd);
      }
    }
  if (!c.loaded) {
    llvm::SmallVector<char, 0> obj;
    if (mlir::failed(compileModel(g, o, Stage::Object, nullptr, &obj)))
      return std::nullopt;
    if (!cached.empty())
      storeCached(cached, obj);
    c.loaded = loadObject(obj, c.abi.prefix, err);
  }
  if (!c.loaded) {
    std::cerr << "nnc: error: cannot load the generated code: " << err << "\n";
    return std::nullopt;
  }
  c.m = c.loaded->model();
  return c;
}

// A compiled model with a checkpoint's parameters and metadata: where
// predict, generate and chat start.
struct Trained {
  Compiled c;
  const nnrt_model *m = nullptr;
  Floats params;
  nnrt_metadata md{};
  ~Trained() { nnrt_metadata_free(&md); }
};

std::unique_ptr<Trained> loadTrained(const Args &a, const dsl::Graph &g,
                                     const CodeGenOptions &o) {
  auto c = compileAndLoad(g, o);
  if (!c)
    return nullptr;
  auto t = std::make_unique<Trained>();
  t->c = std::move(*c);
  t->m = t->c.m;
  t->params = Floats(t->m->num_params);
  nnrt_error e{};
  if (nnrt_checkpoint_load(a.get("checkpoint").c_str(), t->m, t->params.data(), nullptr,
                           nullptr, &t->md, &e)) {
    fail(e.msg);
    return nullptr;
  }
  return t;
}

// bAbI question answering: one vocabulary over the training and test
// files, and their examples padded to the model's lengths.
struct BabiData {
  nnrt_babi_set sets[2]{};
  int numSets = 0;
  nnrt_vocab vocab{};
  int64_t storyLen = 0, questionLen = 0; // the longest in the data
  ~BabiData() {
    for (auto &s : sets)
      nnrt_babi_set_free(&s);
    nnrt_vocab_free(&vocab);
  }
};

std::string str(const dsl::TrainValue *v) {
  return v && v->string ? *v->string : "";
}

float defaultLearningRate(const std::string &opt) {
  return opt == "sgd" ? 0.01f : 0.001f; // Keras's defaults
}

struct SampleContext {
  const nnrt_model *m;
  const float *params;
  const nnrt_vocab *vocab;
  std::string prompt;
  int64_t every, length;
};

// Keras's text-generation callback: a sample of what the model writes.
int sampleOnEpoch(void *user, const nnrt_epoch_stats *st) {
  auto *c = static_cast<SampleContext *>(user);
  if (c->every <= 0 || st->epoch % c->every != 0 || !c->m->step)
    return 0;
  nnrt_error e{};
  nnrt_sampling greedy{};
  std::printf("--- sample after epoch %lld (greedy) ---\n", (long long)st->epoch);
  if (nnrt_generate(c->m, c->params, c->vocab, c->prompt.c_str(), c->length, &greedy, 0,
                    stdout, nullptr, &e))
    std::printf("(no sample: %s)", e.msg);
  std::printf("\n---\n");
  std::fflush(stdout);
  return 0;
}

// Masked-token data draws new masks every epoch, so that the model does not
// learn one fixed set of blanks; the draw for epoch e depends only on (seed,
// e), so a resumed run sees the masks it would have seen.
constexpr double kMaskRate = 0.15; // BERT's
uint64_t maskSeed(uint64_t seed, int64_t epoch) {
  return seed * 0x9e3779b97f4a7c15ULL + uint64_t(epoch) * 0xbf58476d1ce4e5b9ULL + 1;
}

struct MaskContext {
  nnrt_dataset *fit;
  int32_t maskId;
  uint64_t seed;
};

int remaskOnEpoch(void *user, const nnrt_epoch_stats *st) {
  auto *c = static_cast<MaskContext *>(user);
  nnrt_error e{};
  if (nnrt_babi_mask(c->fit, c->maskId, kMaskRate, maskSeed(c->seed, st->epoch), &e)) {
    fail(e.msg);
    return 1;
  }
  return 0;
}

// nnc train --init CKPT: the parameters of CKPT whose names the model has
// (a pretrained encoder under the classifier's same layer names), the rest
// as init() made them. Says which is which, so that a renamed layer that
// silently starts fresh is seen.
bool initFrom(const std::string &path, const nnrt_model *m, float *params, bool quiet) {
  std::vector<int> loaded(size_t(m->num_tensors) + 1, 0);
  int unused = 0;
  nnrt_error e{};
  if (nnrt_checkpoint_load_matching(path.c_str(), m, params, loaded.data(), &unused, nullptr, &e)) {
    fail(std::string(e.msg) + " (--init)");
    return false;
  }
  std::string got, fresh;
  int nGot = 0, nFresh = 0;
  for (int t = 0; t < m->num_tensors; ++t) {
    if (m->tensors[t].role != NNRT_PARAM)
      continue;
    std::string &list = loaded[size_t(t)] ? got : fresh;
    list += (list.empty() ? "" : ", ") + std::string(m->tensors[t].name);
    ++(loaded[size_t(t)] ? nGot : nFresh);
  }
  if (nGot == 0) {
    fail("--init " + path + ": no parameter of model '" + m->name +
         "' is in the checkpoint (parameters are matched by name, e.g. 'enc.block_1.attn.Wq')");
    return false;
  }
  if (!quiet) {
    std::printf("init from %s: %d parameters loaded: %s\n", path.c_str(), nGot, got.c_str());
    std::printf("init: %d parameters start fresh: %s\n", nFresh, nFresh ? fresh.c_str() : "(none)");
    if (unused)
      std::printf("init: %d tensors of the checkpoint are not in the model (not used)\n", unused);
  }
  return true;
}

int cmdTrain(const Args &a) {
  auto g = loadGraph(a);
  if (!g)
    return 1;
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  const dsl::TrainConfig &t = g->train;
  std::string dataPath = a.has("data") ? a.get("data") : t.dataPath;
  if (dataPath.empty())
    return fail("no training data: give the model a train block with a data "
                "line, or pass --data PATH");
  int64_t epochs = t.present ? t.epochs : 1;
  if (a.has("epochs")) {
    auto e = parseInt("epochs", a.get("epochs"), 1, err);
    if (!e)
      return fail(err);
    epochs = *e;
  }
  float lr = defaultLearningRate(o->optimizer.name);
  if (auto it = t.optimizerArgs.find("lr"); it != t.optimizerArgs.end() && it->second.number)
    lr = float(*it->second.number);
  if (a.has("lr")) {
    auto v = parseFloat("lr", a.get("lr"), err);
    if (!v)
      return fail(err);
    lr = float(*v);
  }
  uint64_t seed = t.seed;
  if (a.has("seed")) {
    auto s = parseInt("seed", a.get("seed"), 0, err);
    if (!s)
      return fail(err);
    seed = uint64_t(*s);
  }
  int64_t sampleEvery = t.sampleEvery;
  if (a.has("sample-every")) {
    auto s = parseInt("sample-every", a.get("sample-every"), 0, err);
    if (!s)
      return fail(err);
    sampleEvery = *s;
  }
  bool quiet = a.has("quiet");
  bool text = t.dataKind == "text";
  bool babi = t.dataKind == "babi";
  auto taskIt = t.dataArgs.find("task");
  bool masked = babi && taskIt != t.dataArgs.end() && str(&taskIt->second) == "masked";
  int32_t maskId = -1;
  auto testIt = t.dataArgs.find("test");
  std::string testPath = babi && testIt != t.dataArgs.end() ? str(&testIt->second) : "";

  // Data first: a missing file should not wait for the compiler.
  nnrt_error e{};
  TextData td;
  nnrt_dataset all{}, train{}, test{}, fit{}, val{};
  auto labelIt = t.dataArgs.find("label");
  std::string label = labelIt != t.dataArgs.end() ? str(&labelIt->second) : "";
  BabiData bd;
  if (text) {
    if (!loadText(*g, dataPath, td, e))
      return fail(e.msg);
    all = td.all;
    td.all = nnrt_dataset{};
  } else if (babi) {
    const char *paths[2] = {dataPath.c_str(), testPath.c_str()};
    bd.numSets = testPath.empty() ? 1 : 2;
    if (nnrt_babi_load(paths, bd.numSets, bd.sets, &bd.vocab, &bd.storyLen, &bd.questionLen, &e))
      return fail(e.msg);
    // The mask token is the last id: the other ids stay those of the same
    // data without masking, so a classifier trained on it (with a
    // vocabulary of at least this size) reads the same embedding rows.
    if (masked && nnrt_vocab_append(&bd.vocab, "[mask]", &maskId, &e))
      return fail(e.msg);
    // The front end checked the shapes: story int[S], question int[Q],
    // answer int, so the data's fit can be checked before compiling.
    int64_t vocabSize = g->outputs.empty() || g->outputs[0].shape.empty()
                            ? 0 : g->outputs[0].shape.back();
    if (vocabSize > 0 && vocabSize < bd.vocab.size)
      return fail(dataPath + (testPath.empty() ? "" : " and " + testPath) + " have a vocabulary of " +
                  std::to_string(bd.vocab.size) + " ids (with the padding id 0) but model '" +
                  g->modelName + "' predicts " + std::to_string(vocabSize) +
                  ": set the model's vocabulary parameter to " + std::to_string(bd.vocab.size));
    auto make = masked ? nnrt_babi_masked_dataset : nnrt_babi_dataset;
    if (g->inputs.size() == 2 &&
        (make(&bd.sets[0], g->inputs[0].shape[0], g->inputs[1].shape[0], &all, &e) ||
         (bd.numSets > 1 &&
          make(&bd.sets[1], g->inputs[0].shape[0], g->inputs[1].shape[0], &test, &e))))
      return fail(e.msg);
  } else if (!tool::loadTrainingCsv(*g, dataPath, all, e)) {
    return fail(e.msg);
  }

  // A QA model's scans read a whole story: it generates nothing, so no step.
  std::unique_ptr<dsl::Graph> stepGraph = babi ? nullptr : loadStepGraph(a, *g);
  o->stepGraph = stepGraph.get();
  double t0 = nnrt_now_seconds();
  auto c = compileAndLoad(*g, *o);
  if (!c)
    return 1;
  double compileSeconds = nnrt_now_seconds() - t0;
  const nnrt_model *m = c->m;
  if (text && !checkVocabulary(m, td.vocab, dataPath, e))
    return fail(e.msg);
  int64_t storyLen = 0, questionLen = 0; // the model's
  if (babi && ((masked ? nnrt_babi_check_masked_model(m, &storyLen, &questionLen, &e)
                       : nnrt_babi_check_model(m, &storyLen, &questionLen, &e)) ||
               !checkVocabulary(m, bd.vocab, dataPath, e)))
    return fail(e.msg);
  if (nnrt_dataset_check(&all, m, 1, dataPath.c_str(), &e))
    return fail(e.msg);

  // Text keeps its order (the held-out part is the end of the corpus); a
  // bAbI test file is the test set as it is.
  if (babi && bd.numSets > 1) {
    train = all;
    all = nnrt_dataset{};
  } else if ((text ? nnrt_split_last(&all, t.testSplit, &train, &test, &e)
                   : nnrt_split(&all, t.testSplit, seed, &train, &test, &e))) {
    return fail(e.msg);
  }
  nnrt_scaler scaler{};
  bool scale = t.scale && !text && !babi; // token ids are not scaled
  if (scale) {
    if (nnrt_scaler_fit(&scaler, &train, 0, &e) ||
        nnrt_scaler_apply(&scaler, &train, 0, &e) ||
        (test.n > 0 && nnrt_scaler_apply(&scaler, &test, 0, &e)))
      return fail(e.msg);
  }
  if (t.validationSplit > 0) {
    if (text ? nnrt_split_last(&train, t.validationSplit, &fit, &val, &e)
             : nnrt_split(&train, t.validationSplit, seed + 1, &fit, &val, &e))
      return fail(e.msg);
  } else {
    fit = train;
    train = nnrt_dataset{};
  }

  Floats params(m->num_params), state(m->opt_state_size);
  m->init(params.data(), int64_t(seed));
  if (a.has("init") && a.has("resume"))
    return fail("--init starts a new run from another model's parameters and --resume "
                "continues a run: give one of them");
  if (a.has("init") && !initFrom(a.get("init"), m, params.data(), quiet))
    return 1;
  nnrt_fit_config cfg{};
  cfg.epochs = epochs;
  cfg.learning_rate = lr;
  cfg.seed = seed;
  cfg.shuffle = 1;
  cfg.verbose = quiet ? 0 : 1;
  if (a.has("resume")) {
    // The parameters, the optimizer state and the position in the schedule
    // (epoch, step): the run continues as if it had not stopped.
    nnrt_metadata md{};
    int restored = 0;
    if (nnrt_checkpoint_load(a.get("resume").c_str(), m, params.data(), state.data(),
                             &restored, &md, &e) ||
        !tool::checkResumeMetadata(md, a.get("resume"), e)) {
      nnrt_metadata_free(&md);
      return fail(e.msg);
    }
    const char *ep = nnrt_metadata_get(&md, "nnc.epochs");
    const char *stp = nnrt_metadata_get(&md, "nnc.step");
    cfg.initial_epoch = ep ? std::atoll(ep) : 0;
    cfg.start_step = stp ? std::atoll(stp) : 0;
    nnrt_metadata_free(&md);
    if (!restored)
      std::fprintf(stderr, "nnc: warning: %s has no optimizer state; it starts from zero\n",
                   a.get("resume").c_str());
    if (cfg.initial_epoch >= epochs)
      return fail(a.get("resume") + " already has " + std::to_string(cfg.initial_epoch) +
                  " epochs: ask for more with --epochs");
  }
  std::string dataNote = text ? ", vocabulary " + std::to_string(td.vocab.size)
                         : babi ? ", vocabulary " + std::to_string(bd.vocab.size) +
                                      ", stories up to " + std::to_string(bd.storyLen) +
                                      " tokens, questions up to " +
                                      std::to_string(bd.questionLen)
                                : "";
  // validation_data test: the test set is checked after every epoch too (the
  // course reads its accuracy there); the final test is the same figure.
  const nnrt_dataset *valSet = t.validateOnTest ? &test : &val;
  if (t.validateOnTest && test.n == 0)
    return fail("validation_data test: the data has no test rows");
  if (!quiet)
    std::printf("Model %s: %lld parameters, compiled in %.0f ms; %lld training "
                "rows, %s validation, %lld test%s\n",
                m->name, (long long)m->num_params, compileSeconds * 1e3, (long long)fit.n,
                t.validateOnTest ? "test set as" : std::to_string(val.n).c_str(),
                (long long)test.n, dataNote.c_str());
  // Validation and test masks are drawn once (fixed seeds), so that their
  // losses compare across epochs; the training masks change every epoch.
  MaskContext maskCtx{&fit, maskId, seed};
  if (masked) {
    if (nnrt_babi_mask(&fit, maskId, kMaskRate, maskSeed(seed, cfg.initial_epoch), &e) ||
        (val.n > 0 && nnrt_babi_mask(&val, maskId, kMaskRate, maskSeed(seed + 1, -1), &e)) ||
        (test.n > 0 && nnrt_babi_mask(&test, maskId, kMaskRate, maskSeed(seed + 2, -1), &e)))
      return fail(e.msg);
    cfg.on_epoch = remaskOnEpoch;
    cfg.user = &maskCtx;
  }
  SampleContext sample{m, params.data(), &td.vocab, td.prompt, sampleEvery, t.sampleLength};
  if (text && sampleEvery > 0 && m->step && !quiet) {
    cfg.on_epoch = sampleOnEpoch;
    cfg.user = &sample;
  }
  nnrt_history hist{};
  double f0 = nnrt_now_seconds();
  cfg.check_numerics = a.has("check-numerics");
  int fitRc = nnrt_fit(m, params.data(), state.data(), &fit, valSet->n > 0 ? valSet : nullptr,
                       &cfg, &hist, quiet ? nullptr : stdout, &e);
  // A step that went non-finite stops the run with an error, but the
  // parameters of the last good epoch are still saved (--save), so the run
  // can go on from there (--resume, with a lower learning rate).
  bool nonFinite = fitRc == NNRT_FIT_NONFINITE;
  if (fitRc && !nonFinite)
    return fail(e.msg);
  if (nonFinite)
    std::cerr << "nnc: error: " << e.msg << "\n";
  double trainSeconds = nnrt_now_seconds() - f0;

  float testLoss = NAN, testAcc = NAN;
  if (test.n > 0 && !nonFinite) {
    if (nnrt_evaluate(m, params.data(), &test, &testLoss, &testAcc, &e))
      return fail(e.msg);
    // A regression (mse) has no accuracy: its line ends with the loss.
    if (std::isnan(testAcc))
      std::printf("test_loss: %.4f\n", testLoss);
    else
      std::printf("test_loss: %.4f - test_accuracy: %.4f\n", testLoss, testAcc);
  }
  if (!nonFinite)
    std::printf("trained %lld epochs in %.3f s\n", (long long)hist.count, trainSeconds);

  if (a.has("save")) {
    nnrt_metadata md{};
    if (all.num_classes > 0) {
      char *j = nnrt_json_encode_strings(all.class_names, all.num_classes);
      nnrt_metadata_set(&md, "nnc.classes", j);
      std::free(j);
    }
    if (scale) {
      char *mn = nnrt_json_encode_floats(scaler.min, scaler.size);
      char *mx = nnrt_json_encode_floats(scaler.max, scaler.size);
      nnrt_metadata_set(&md, "nnc.scaler_min", mn);
      nnrt_metadata_set(&md, "nnc.scaler_max", mx);
      std::free(mn);
      std::free(mx);
    }
    if (text && nnrt_vocab_to_metadata(&td.vocab, &md, &e))
      return fail(e.msg);
    if (babi) {
      if (nnrt_vocab_to_metadata(&bd.vocab, &md, &e))
        return fail(e.msg);
      nnrt_metadata_set(&md, "nnc.story_len", std::to_string(storyLen).c_str());
      nnrt_metadata_set(&md, "nnc.question_len", std::to_string(questionLen).c_str());
      if (masked)
        nnrt_metadata_set(&md, "nnc.mask_id", std::to_string(maskId).c_str());
    }
    std::string labelCol = !label.empty() ? label : all.label_name ? all.label_name : "";
    if (!labelCol.empty())
      nnrt_metadata_set(&md, "nnc.label_column", labelCol.c_str());
    tool::describeLabels(*g, all, md);
    nnrt_metadata_set(&md, "nnc.step", std::to_string(hist.last_step).c_str());
    nnrt_metadata_set(&md, "nnc.epochs",
                      std::to_string(cfg.initial_epoch + hist.count).c_str());
    int rc = nnrt_checkpoint_save(a.get("save").c_str(), m, params.data(),
                                  state.data(), &md, &e);
    nnrt_metadata_free(&md);
    if (rc)
      return fail(e.msg);
    if (nonFinite)
      std::cerr << "nnc: saved the parameters of epoch " << cfg.initial_epoch + hist.count
                << " to " << a.get("save") << " (continue with --resume)\n";
    else if (!quiet)
      std::printf("saved %s\n", a.get("save").c_str());
  }
  if (a.has("metrics-out")) {
    int64_t last = hist.count - 1;
    const char *keys[] = {"epochs", "loss", "accuracy", "val_loss", "val_accuracy",
                          "test_loss", "test_accuracy", "train_seconds",
                          "compile_seconds", "parameters"};
    double vals[] = {double(cfg.initial_epoch + hist.count),
                     last >= 0 ? hist.loss[last] : NAN,
                     last >= 0 ? hist.accuracy[last] : NAN,
                     last >= 0 ? hist.val_loss[last] : NAN,
                     last >= 0 ? hist.val_accuracy[last] : NAN,
                     testLoss, testAcc, trainSeconds, compileSeconds,
                     double(m->num_params)};
    if (nnrt_write_metrics_json(a.get("metrics-out").c_str(), m->name, 10, keys,
                                vals, &e))
      return fail(e.msg);
  }
  nnrt_history_free(&hist);
  nnrt_scaler_free(&scaler);
  for (nnrt_dataset *d : {&all, &train, &test, &fit, &val})
    nnrt_dataset_free(d);
  return nonFinite ? 1 : 0;
}

int cmdGenerate(const Args &a) {
  if (!a.has("checkpoint"))
    return fail("generate needs --checkpoint CKPT (written by nnc train --save)");
  if (!a.has("prompt"))
    return fail("generate needs --prompt TEXT to start from");
  auto g = loadGraph(a);
  if (!g)
    return 1;
  bool recompute = a.has("recompute");
  if (g->scans.empty() && !g->usesCache && !recompute)
    return fail("model '" + g->modelName + "' has no recurrent cells and no attention "
                "cache: nnc generate needs a model with a cell (LSTM, GRU, ...) or "
                "cache(...) (std.attention), or --recompute");
  if (!g->scans.empty() && !g->usesCache && g->timeParam.empty() && !recompute)
    return fail("model '" + g->modelName + "' has no time parameter: declare the "
                "window as a model parameter, e.g. model M(window T = 25), and use "
                "it in the input's shape");
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  if (g->inputs.size() != 1)
    return fail("model '" + g->modelName + "' has " + std::to_string(g->inputs.size()) +
                " inputs: nnc generate feeds one sequence of token ids (a model with "
                "one int input)");
  std::unique_ptr<dsl::Graph> stepGraph;
  if (!recompute) {
    stepGraph = loadStepGraph(a, *g);
    if (!stepGraph)
      return 1;
    o->stepGraph = stepGraph.get();
  }
  int64_t tokens = 50;
  if (a.has("tokens")) {
    auto v = parseInt("tokens", a.get("tokens"), 0, err);
    if (!v)
      return fail(err);
    tokens = *v;
  }
  nnrt_sampling s{};
  if (a.has("temperature")) {
    auto v = parseFloat("temperature", a.get("temperature"), err);
    if (!v)
      return fail(err);
    s.temperature = float(*v);
  }
  if (a.has("top-k")) {
    auto v = parseInt("top-k", a.get("top-k"), 1, err);
    if (!v)
      return fail(err);
    s.top_k = *v;
    if (s.temperature == 0)
      s.temperature = 1;
  }
  if (a.has("top-p")) {
    auto v = parseFloat("top-p", a.get("top-p"), err);
    if (!v || *v > 1)
      return fail(v ? "--top-p expects a number in (0, 1]" : err);
    s.top_p = float(*v);
    if (s.temperature == 0)
      s.temperature = 1;
  }
  uint64_t seed = 0;
  if (a.has("seed")) {
    auto v = parseInt("seed", a.get("seed"), 0, err);
    if (!v)
      return fail(err);
    seed = uint64_t(*v);
  }
  auto tr = loadTrained(a, *g, *o);
  if (!tr)
    return 1;
  nnrt_error e{};
  nnrt_vocab v{};
  if (nnrt_vocab_from_metadata(&v, &tr->md, &e))
    return fail(a.get("checkpoint") + ": " + e.msg);
  int rc = (recompute ? nnrt_generate_recompute : nnrt_generate)(
      tr->m, tr->params.data(), &v, a.get("prompt").c_str(), tokens, &s, seed, stdout, nullptr, &e);
  std::printf("\n");
  nnrt_vocab_free(&v);
  if (rc)
    return fail(e.msg);
  return 0;
}

// ---- nnc chat: questions about stories, for models trained on bAbI data ----

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The story and question read so far, and the model that answers.
struct Chat {
  const nnrt_model *m;
  const float *params;
  const nnrt_vocab *vocab;
  int64_t storyLen, questionLen;
  std::string story;
  int storyLine = 0; // where the story started (for messages)
  int errors = 0;

  void error(int line, const std::string &msg) {
    std::fflush(stdout);
    std::fprintf(stderr, "nnc: error: <stdin>:%d: %s\n", line, msg.c_str());
    errors++;
  }

  // Token ids of text, or an error naming the unknown words.
  bool encode(const std::string &text, std::vector<int32_t> &ids, std::string &msg) {
    nnrt_error e{};
    int32_t *p = nullptr;
    int64_t n = 0;
    if (nnrt_vocab_encode(vocab, text.data(), text.size(), &p, &n, &e)) {
      msg = e.msg;
      return false;
    }
    ids.assign(p, p + n);
    std::free(p);
    return true;
  }

  void ask(int line, const std::string &question) {
    if (trim(story).empty()) {
      error(line, "there is no story to ask about: first tell one (sentences such as 'Mary "
                  "moved to the bathroom.'), then ask a question ending with '?'");
      return;
    }
    std::vector<int32_t> s, q;
    std::string msg;
    // Story and question together, so one message names every unknown word.
    if (!encode(story + "\n" + question, s, msg)) {
      error(line, msg + "; the question is skipped (an empty line starts a new story)");
      return;
    }
    encode(story, s, msg);
    encode(question, q, msg);
    if (int64_t(s.size()) > storyLen) {
      error(line, "the story (from line " + std::to_string(storyLine) + ") has " +
                      std::to_string(s.size()) + " tokens, the model reads at most " +
                      std::to_string(storyLen) + "; the question is skipped (an empty line "
                      "starts a new story)");
      return;
    }
    if (int64_t(q.size()) > questionLen) {
      // As the course's chat bot (Keras's pad_sequences truncates at the
      // front): "Is the football in the garden?" still gets an answer.
      std::fflush(stdout);
      std::fprintf(stderr, "nnc: note: <stdin>:%d: the question has %zu tokens, the model reads "
                   "the last %lld\n", line, q.size(), (long long)questionLen);
      q.erase(q.begin(), q.end() - questionLen);
    }
    nnrt_error e{};
    nnrt_dataset x{}, out{};
    int32_t dtypes[2] = {NNRT_I32, NNRT_I32};
    int64_t sizes[2] = {storyLen, questionLen};
    if (nnrt_dataset_alloc(&x, 1, 2, dtypes, sizes, &e) ||
        nnrt_pad_ids(s.data(), int64_t(s.size()), storyLen, (int32_t *)x.fields[0].data) ||
        nnrt_pad_ids(q.data(), int64_t(q.size()), questionLen, (int32_t *)x.fields[1].data) ||
        nnrt_predict(m, params, &x, &out, &e)) {
      error(line, e.msg);
      nnrt_dataset_free(&x);
      return;
    }
    // The most probable word; id 0 is padding, never an answer.
    const float *probs = (const float *)out.fields[0].data;
    int64_t k = std::min<int64_t>(out.fields[0].size, vocab->size);
    int64_t best = 1;
    for (int64_t i = 2; i < k; i++)
      if (probs[i] > probs[best])
        best = i;
    std::printf("%s (%.2f)\n", vocab->tokens[best], probs[best]);
    std::fflush(stdout);
    nnrt_dataset_free(&x);
    nnrt_dataset_free(&out);
  }
};

const char *kChatNoInput =
    "no input: give a story (one or more lines of sentences), then a question ending with "
    "'?', e.g. printf 'Mary moved to the bathroom.\\nIs Mary in the bathroom?\\n' | nnc chat "
    "MODEL.nn --checkpoint CKPT";

int cmdChat(const Args &a) {
  if (!a.has("checkpoint"))
    return fail("chat needs --checkpoint CKPT (written by nnc train --save with babi data)");
  // A pipe is read whole first, so empty input is refused before compiling;
  // a person at a terminal gets the model first, then the prompts.
  bool tty = isatty(fileno(stdin));
  std::vector<std::string> piped;
  if (!tty) {
    bool any = false;
    for (std::string l; std::getline(std::cin, l);) {
      any = any || !trim(l).empty();
      piped.push_back(l);
    }
    if (!any)
      return fail(kChatNoInput);
  }
  auto g = loadGraph(a);
  if (!g)
    return 1;
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  o->batch = 1; // one question at a time; the parameters do not depend on it
  auto tr = loadTrained(a, *g, *o);
  if (!tr)
    return 1;
  nnrt_error e{};
  Chat chat{tr->m, tr->params.data(), nullptr, 0, 0};
  if (nnrt_babi_check_model(tr->m, &chat.storyLen, &chat.questionLen, &e))
    return fail(e.msg);
  nnrt_vocab v{};
  const char *kind = nnrt_metadata_get(&tr->md, NNRT_META_TOKENS);
  if (kind && std::strcmp(kind, "babi") != 0)
    return fail(a.get("checkpoint") + " was not trained on bAbI data (its vocabulary is " +
                kind + "): nnc chat needs a model trained with 'data babi(...)'");
  if (nnrt_vocab_from_metadata(&v, &tr->md, &e))
    return fail(a.get("checkpoint") + ": " + e.msg);
  chat.vocab = &v;
  if (!checkVocabulary(tr->m, v, a.get("checkpoint"), e)) {
    nnrt_vocab_free(&v);
    return fail(e.msg);
  }

  if (tty)
    std::printf("Tell me a story, then ask a question about it ending with '?'.\n"
                "An empty line starts a new story; Ctrl-D ends.\n");
  std::string raw;
  int line = 0, questions = 0, storyLines = 0;
  for (;;) {
    if (tty) {
      std::fputs(chat.story.empty() ? "story> " : "> ", stdout);
      std::fflush(stdout);
    }
    if (tty ? !std::getline(std::cin, raw) : size_t(line) >= piped.size())
      break;
    if (!tty)
      raw = piped[line];
    line++;
    std::string text = trim(raw);
    if (text.empty()) {
      chat.story.clear();
      continue;
    }
    if (text.back() != '?') {
      if (chat.story.empty())
        chat.storyLine = line;
      chat.story += text + "\n";
      storyLines++;
      continue;
    }
    // "Mary went home. Is Mary in the garden?": the sentences before the
    // last one are more story.
    size_t end = text.size() < 2 ? std::string::npos : text.find_last_of(".!?", text.size() - 2);
    if (end != std::string::npos) {
      if (chat.story.empty())
        chat.storyLine = line;
      chat.story += text.substr(0, end + 1) + "\n";
      text = trim(text.substr(end + 1));
    }
    questions++;
    if (text.find_first_not_of(" \t?") == std::string::npos)
      chat.error(line, "the question has no words");
    else
      chat.ask(line, text);
  }
  if (tty)
    std::printf("\n");
  nnrt_vocab_free(&v);
  if (line == 0 || (questions == 0 && storyLines == 0))
    return fail(kChatNoInput);
  if (questions == 0)
    return fail("the input has a story but no question: a question is a line ending with '?'");
  return chat.errors ? 1 : 0;
}

int cmdPredict(const Args &a) {
  if (!a.has("checkpoint"))
    return fail("predict needs --checkpoint CKPT (written by nnc train --save)");
  auto g = loadGraph(a);
  if (!g)
    return 1;
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  auto tr = loadTrained(a, *g, *o);
  if (!tr)
    return 1;
  const nnrt_model *m = tr->m;
  const nnrt_metadata &md = tr->md;
  const Floats &params = tr->params;
  nnrt_error e{};
  if (!tool::checkPredictMetadata(*g, md, a.get("checkpoint"), e))
    return fail(e.msg);
  std::string input = a.get("input", "-");
  nnrt_dataset x{};
  const char *labelCol = nnrt_metadata_get(&md, "nnc.label_column");
  int64_t nfeat = tool::featureCount(m);
  int rc = input == "-" ? nnrt_csv_load_inputs("<stdin>", stdin, labelCol, nfeat, &x, &e)
                        : nnrt_csv_load_inputs(input.c_str(), nullptr, labelCol, nfeat, &x, &e);
  if (rc)
    return fail(e.msg);
  if (nnrt_dataset_check(&x, m, 0, input == "-" ? "<stdin>" : input.c_str(), &e))
    return fail(e.msg);
  const char *mn = nnrt_metadata_get(&md, "nnc.scaler_min");
  const char *mx = nnrt_metadata_get(&md, "nnc.scaler_max");
  nnrt_scaler scaler{};
  if (mn && mx) {
    float *lo = nullptr, *hi = nullptr;
    int64_t n1 = 0, n2 = 0;
    if (nnrt_json_decode_floats(mn, &lo, &n1, &e) ||
        nnrt_json_decode_floats(mx, &hi, &n2, &e) || n1 != n2 ||
        nnrt_scaler_set(&scaler, lo, hi, n1, &e) ||
        nnrt_scaler_apply(&scaler, &x, 0, &e))
      return fail(std::string("the checkpoint's scaler: ") + e.msg);
    std::free(lo);
    std::free(hi);
  }
  char **names = nullptr;
  int numNames = 0;
  if (const char *cls = nnrt_metadata_get(&md, "nnc.classes"))
    if (nnrt_json_decode_strings(cls, &names, &numNames, &e))
      return fail(std::string("the checkpoint's class names: ") + e.msg);
  if (!tool::checkClassNames(m, numNames, a.get("checkpoint"), e))
    return fail(e.msg);
  nnrt_dataset out{};
  if (nnrt_predict(m, params.data(), &x, &out, &e))
    return fail(e.msg);
  // A float target is regression: the outputs are the answer, not scores.
  if (tool::isRegression(*g))
    tool::printValues(stdout, (const float *)out.fields[0].data, out.n, out.fields[0].size);
  else
    nnrt_print_predictions(stdout, (const float *)out.fields[0].data, out.n,
                           out.fields[0].size, names, numNames);
  nnrt_free_strings(names, numNames);
  nnrt_scaler_free(&scaler);
  nnrt_dataset_free(&x);
  nnrt_dataset_free(&out);
  return 0;
}

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

int cmdCompile(const Args &a) {
  std::string emit = a.get("emit");
  if (emit == "ast") {
    if (a.file.empty())
      return fail("no model file given");
    dsl::DiagnosticEngine diag(std::cerr);
    dsl::FrontendOptions fo;
    fo.stdlibDir = NNC_STDLIB_DIR;
    return dsl::dumpAST(a.file, fo, diag, std::cout) ? 0 : 1;
  }
  static const std::map<std::string, Stage> stages = {
      {"nn", Stage::NN},           {"nn-train", Stage::NNTrain},
      {"linalg", Stage::Linalg},   {"buffers", Stage::Buffers},
      {"llvm-dialect", Stage::LLVMDialect},
      {"llvm", Stage::LLVMIR},     {"asm", Stage::Asm}};
  if (!emit.empty() && !stages.count(emit))
    return fail("--emit expects ast, nn, nn-train, linalg, buffers, llvm-dialect, llvm "
                "or asm, got '" + emit + "'");
  if (emit.empty() && !a.has("o"))
    return fail("compile needs -o DIR (or --emit=STAGE to print a stage)");
  auto g = loadGraph(a);
  if (!g)
    return 1;
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  // Recurrent models get their generation entry point in the library too.
  std::unique_ptr<dsl::Graph> stepGraph = loadStepGraph(a, *g);
  o->stepGraph = stepGraph.get();
  if (!emit.empty()) {
    std::cout.flush();
    llvm::raw_fd_ostream &os = llvm::outs();
    return mlir::failed(compileModel(*g, *o, stages.at(emit), &os, nullptr)) ? 1 : 0;
  }
  llvm::SmallVector<char, 0> obj;
  ModelABI abi;
  if (mlir::failed(compileModel(*g, *o, Stage::Object, nullptr, &obj, &abi)))
    return 1;
  std::string dir = a.get("o");
  if (std::error_code ec = llvm::sys::fs::create_directories(dir + "/nnrt"))
    return fail("cannot create '" + dir + "': " + ec.message());
  std::ifstream abiHeader(std::string(NNC_RUNTIME_INCLUDE_DIR) + "/nnrt/nnrt_abi.h");
  std::string abiText((std::istreambuf_iterator<char>(abiHeader)),
                      std::istreambuf_iterator<char>());
  if (abiText.empty())
    return fail("cannot read nnrt_abi.h from " NNC_RUNTIME_INCLUDE_DIR);
  if (!writeStaticLibrary(dir + "/lib" + abi.prefix + ".a", abi.prefix, obj, err) ||
      !writeFile(dir + "/" + abi.prefix + ".h", writeHeader(abi), err) ||
      !writeFile(dir + "/nnrt/nnrt_abi.h", abiText, err))
    return fail(err);
  return 0;
}

int cmdSummary(const Args &a) {
  auto g = loadGraph(a);
  if (!g)
    return 1;
  auto shape = [](const std::vector<int64_t> &s) {
    std::string r = "(None";
    for (int64_t d : s)
      r += ", " + std::to_string(d);
    return r + ")";
  };
  auto row = [](const std::string &a, const std::string &b, const std::string &c) {
    std::printf(" %-28s %-25s %s\n", a.c_str(), b.c_str(), c.c_str());
  };
  std::string line(65, '_'), dline(65, '=');
  std::printf("Model: \"%s\"\n%s\n", g->modelName.c_str(), line.c_str());
  row("Layer (type)", "Output Shape", "Param #");
  std::printf("%s\n", dline.c_str());
  int64_t total = 0;
  for (const auto &l : g->layers) {
    row(l.name + " (" + l.kind + ")", shape(l.outputShape), std::to_string(l.numParams));
    total += l.numParams;
  }
  for (const dsl::Param *p : tool::modelLevelParams(*g))
    row(p->name + " (param)", tool::paramShape(*p), std::to_string(dsl::numElements(p->shape)));
  int64_t all = 0;
  for (const auto &p : g->params)
    all += dsl::numElements(p.shape);
  std::printf("%s\nTotal params: %lld\nTrainable params: %lld\nNon-trainable "
              "params: 0\n%s\n",
              dline.c_str(), (long long)all, (long long)all, line.c_str());
  (void)total;
  // Memory and FLOPs as the compiler lays them out for the train block's
  // batch (up to the memory plan: no LLVM work).
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o)
    return fail(err);
  ModelABI abi;
  if (mlir::failed(compileModel(*g, *o, Stage::Buffers, nullptr, nullptr, &abi)))
    return 1;
  tool::printCompiledFacts(abi, *o);
  std::printf("%s\n", line.c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  Args a = parseArgs(argc, argv);
  if (a.has("help") || a.command == "help" || argc < 2) {
    std::cout << kUsage;
    return argc < 2 ? 1 : 0;
  }
  for (const std::string &e : a.errors)
    std::cerr << "nnc: error: " << e << "\n";
  if (!a.errors.empty())
    return 1;
  if (a.command == "train")
    return cmdTrain(a);
  if (a.command == "predict")
    return cmdPredict(a);
  if (a.command == "generate")
    return cmdGenerate(a);
  if (a.command == "chat")
    return cmdChat(a);
  if (a.command == "compile")
    return cmdCompile(a);
  if (a.command == "summary")
    return cmdSummary(a);
  std::cerr << "nnc: error: unknown command '" << a.command << "'\n" << kUsage;
  return 1;
}
