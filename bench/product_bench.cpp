// bench-products: nnc's generated matrix products against OpenBLAS's sgemm on
// one thread, for 512^3, 1024^3 and the product shapes of the examples.
//
// Each product is a model of one Dense-like line, `y = x @ W` at batch M
// (x: [M, K], W: [K, N]), compiled in this process (compile time excluded);
// its `predict` is the product. OpenBLAS is loaded at run time
// (libopenblas.so.0: no build dependency) and called as cblas_sgemm on the
// same data; the results must agree. bench/run_products.sh runs it with
// OpenBLAS's best core for this CPU (bench/machine.py).
//
//   bench-products [--shapes M,K,N;M,K,N...] [--seconds S]
// Prints one line per shape and a machine-readable one:
//   RESULT shape=MxKxN nnc_gflops=<G> blas_gflops=<G> ratio=<nnc/blas>
#include "bench_common.h"

#include "nnc/CodeGen/Pipeline.h"
#include "nnc/dsl/Frontend.h"

#include <dlfcn.h>

#include <chrono>
#include <random>
#include <sstream>

using namespace nnc;

namespace {

int fail(const std::string &msg) {
  std::fprintf(stderr, "bench-products: error: %s\n", msg.c_str());
  return 1;
}

struct Shape {
  int64_t m, k, n;
  const char *what;
};

// The products the examples run, largest first per model (rows are batch
// times positions where a layer sees every position).
const Shape kShapes[] = {
    {512, 512, 512, "square"},
    {1024, 1024, 1024, "square"},
    {4096, 128, 512, "tiny GPT: MLP up (B*T x C -> 4C)"},
    {4096, 512, 128, "tiny GPT: MLP down (4C -> C)"},
    {4096, 128, 128, "tiny GPT: q, k, v, o projections"},
    {128, 4096, 512, "tiny GPT: MLP weight gradient (sum over B*T)"},
    {3200, 512, 2048, "char LSTM H=512: layer 2 input projection"},
    {32, 512, 2048, "char LSTM H=512: recurrent step (batch 32)"},
    {128, 150, 2728, "word LSTM: logits"},
    {128, 150, 600, "word LSTM: recurrent step"},
};

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);

double secondsNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds per call of `f` over 5 blocks of about `budget` / 5 each.
template <class F> double timeCalls(F f, double budget) {
  f();
  double t0 = secondsNow();
  f();
  double once = std::max(secondsNow() - t0, 1e-6);
  int reps = std::max(1, int(budget / 5 / once));
  std::vector<double> per;
  for (int b = 0; b < 5; ++b) {
    double s = secondsNow();
    for (int r = 0; r < reps; ++r)
      f();
    per.push_back((secondsNow() - s) / reps);
  }
  return median(per);
}

std::unique_ptr<LoadedModel> compileProduct(const Shape &s, std::string &err) {
  std::ostringstream src;
  src << "model Product(k K = " << s.k << ", n N = " << s.n << ") {\n"
      << "  input  x: float[K]\n  target t: float[N]\n  param  W[K, N] = normal(0.02)\n"
      << "  output y = x @ W\n  loss   mse(y, t)\n}\n";
  std::ostringstream diags;
  dsl::DiagnosticEngine diag(diags);
  dsl::FrontendOptions fo;
  fo.stdlibDir = NNC_STDLIB_DIR;
  auto g = dsl::buildGraphFromSource(src.str(), "product.nn", fo, diag);
  if (!g) {
    err = diags.str();
    return nullptr;
  }
  CodeGenOptions o;
  o.batch = s.m;
  llvm::SmallVector<char, 0> obj;
  ModelABI abi;
  if (mlir::failed(compileModel(*g, o, Stage::Object, nullptr, &obj, &abi))) {
    err = "compileModel failed";
    return nullptr;
  }
  return loadObject(obj, abi.prefix, err);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  double budget = 1.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      budget = std::atof(argv[++i]);
    } else if (a == "--shapes" && i + 1 < argc) {
      shapes.clear();
      std::stringstream ss(argv[++i]);
      std::string one;
      while (std::getline(ss, one, ';')) {
        Shape s{0, 0, 0, "given"};
        if (std::sscanf(one.c_str(), "%ld,%ld,%ld", &s.m, &s.k, &s.n) != 3 || s.m < 1 || s.k < 1 ||
            s.n < 1)
          return fail("--shapes takes M,K,N;M,K,N..., got '" + one + "'");
        shapes.push_back(s);
      }
    } else {
      return fail("usage: bench-products [--shapes M,K,N;...] [--seconds S]");
    }
  }
  void *blas = dlopen("libopenblas.so.0", RTLD_NOW);
  if (!blas)
    blas = dlopen("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", RTLD_NOW);
  auto sgemm = blas ? (SgemmFn)dlsym(blas, "cblas_sgemm") : nullptr;
  if (!sgemm)
    return fail("cannot load OpenBLAS (apt-get install libopenblas0-pthread)");
  if (auto setThreads = (void (*)(int))dlsym(blas, "openblas_set_num_threads"))
    setThreads(1);
  auto coreName = (const char *(*)())dlsym(blas, "openblas_get_corename");
  std::printf("nnc (one thread) against OpenBLAS sgemm (one thread, core %s)\n",
              coreName ? coreName() : "?");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const Shape &s : shapes) {
    std::string err;
    auto loaded = compileProduct(s, err);
    if (!loaded)
      return fail("cannot compile the product " + std::to_string(s.m) + "x" + std::to_string(s.k) +
                  "x" + std::to_string(s.n) + ": " + err);
    const nnrt_model *m = loaded->model();
    std::vector<float> w(size_t(m->num_params)), x(size_t(s.m * s.k)), y(size_t(s.m * s.n)),
        c(size_t(s.m * s.n));
    for (float &v : w)
      v = u(rng);
    for (float &v : x)
      v = u(rng);
    Workspace ws(m);
    void *io[] = {x.data(), y.data()};
    double tn = timeCalls([&] { m->predict(w.data(), io, ws.p); }, budget);
    double tb = timeCalls(
        [&] {
          sgemm(101 /*row major*/, 111 /*no trans*/, 111, int(s.m), int(s.n), int(s.k), 1.0f,
                x.data(), int(s.k), w.data(), int(s.n), 0.0f, c.data(), int(s.n));
        },
        budget);
    double err2 = 0, ref = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      err2 = std::max(err2, double(std::fabs(y[i] - c[i])));
      ref = std::max(ref, double(std::fabs(c[i])));
    }
    if (!(err2 <= 1e-4 * ref + 1e-6))
      return fail("nnc and OpenBLAS disagree on " + std::to_string(s.m) + "x" +
                  std::to_string(s.k) + "x" + std::to_string(s.n));
    double flops = 2.0 * double(s.m) * double(s.k) * double(s.n);
    double gn = flops / tn / 1e9, gb = flops / tb / 1e9;
    std::printf("%5ldx%5ldx%5ld  nnc %7.1f GFLOP/s  OpenBLAS %7.1f GFLOP/s  %5.0f%%  %s\n", s.m,
                s.k, s.n, gn, gb, 100 * gn / gb, s.what);
    std::printf("RESULT shape=%ldx%ldx%ld nnc_gflops=%.1f blas_gflops=%.1f ratio=%.3f\n", s.m, s.k,
                s.n, gn, gb, gn / gb);
  }
  return 0;
}
