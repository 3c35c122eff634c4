// iris-app: classifies one flower with a model nnc compiled at build time.
//
//   iris-app CKPT sepal_length sepal_width petal_length petal_width
//
// CKPT is a checkpoint written by `nnc train examples/iris/iris.nn --save CKPT`.
// The min-max scaler fitted during training and the class names are read
// from the checkpoint's metadata ("nnc.scaler_min", "nnc.scaler_max",
// "nnc.classes"). Prints e.g. "virginica 0.987". Exit status 1 on any error.
#include "iris.h"      // generated: iris_predict, iris_model, IRIS_BATCH
#include "nnrt/nnrt.h" // checkpoints, JSON helpers

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

const char *kUsage = "usage: iris-app CKPT sepal_length sepal_width petal_length petal_width\n";

int fail(const std::string &msg) {
  std::fprintf(stderr, "iris-app: error: %s\n", msg.c_str());
  return 1;
}

bool parseFloat(const char *s, float &out) {
  char *end = nullptr;
  errno = 0;
  float v = std::strtof(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    return false;
  out = v;
  return true;
}

struct Metadata {
  nnrt_metadata md{};
  ~Metadata() { nnrt_metadata_free(&md); }
};

struct Floats {
  float *v = nullptr;
  int64_t n = 0;
  ~Floats() { std::free(v); }
};

struct Strings {
  char **v = nullptr;
  int n = 0;
  ~Strings() { nnrt_free_strings(v, n); }
};

} // namespace

int main(int argc, char **argv) {
  constexpr int kFeatures = 4;
  if (argc != 2 + kFeatures) {
    std::fputs(kUsage, stderr);
    return fail("expected a checkpoint and 4 measurements, got " + std::to_string(argc - 1) +
                " argument(s)");
  }
  float x[kFeatures];
  for (int i = 0; i < kFeatures; ++i)
    if (!parseFloat(argv[2 + i], x[i]))
      return fail(std::string("measurement ") + std::to_string(i + 1) + " is not a number: '" +
                  argv[2 + i] + "'");

  const nnrt_model *m = &iris_model;
  nnrt_error err{};
  std::vector<float> params(IRIS_NUM_PARAMS);
  Metadata md;
  if (nnrt_checkpoint_load(argv[1], m, params.data(), nullptr, nullptr, &md.md, &err))
    return fail(err.msg);

  // The scaler the training data was fitted with.
  const char *mn = nnrt_metadata_get(&md.md, "nnc.scaler_min");
  const char *mx = nnrt_metadata_get(&md.md, "nnc.scaler_max");
  if (!mn || !mx)
    return fail(std::string(argv[1]) + ": no scaler in the checkpoint metadata "
                                       "(nnc.scaler_min/nnc.scaler_max)");
  Floats lo, hi;
  if (nnrt_json_decode_floats(mn, &lo.v, &lo.n, &err) ||
      nnrt_json_decode_floats(mx, &hi.v, &hi.n, &err))
    return fail(std::string(argv[1]) + ": bad scaler in the checkpoint: " + err.msg);
  if (lo.n != kFeatures || hi.n != kFeatures)
    return fail(std::string(argv[1]) + ": the checkpoint's scaler has " + std::to_string(lo.n) +
                "/" + std::to_string(hi.n) + " values, expected 4");
  for (int i = 0; i < kFeatures; ++i) {
    float range = hi.v[i] - lo.v[i];
    x[i] = (x[i] - lo.v[i]) / (range != 0.0f ? range : 1.0f); // as nnrt_scaler_apply
  }

  Strings names;
  if (const char *cls = nnrt_metadata_get(&md.md, "nnc.classes"))
    if (nnrt_json_decode_strings(cls, &names.v, &names.n, &err))
      return fail(std::string(argv[1]) + ": bad class names in the checkpoint: " + err.msg);

  // The generated entry point works on IRIS_BATCH rows: pad with zeros.
  int firstOut = -1;
  if (nnrt_model_count(m, NNRT_OUTPUT, &firstOut) != 1)
    return fail("the model should have one output");
  const int64_t k = m->tensors[firstOut].size; // probs[3]
  std::vector<float> in(IRIS_BATCH * kFeatures, 0.0f), probs(IRIS_BATCH * k, 0.0f);
  for (int i = 0; i < kFeatures; ++i)
    in[i] = x[i];
  iris_predict(params.data(), in.data(), probs.data(), /*workspace=*/nullptr);

  int64_t best = 0;
  for (int64_t j = 1; j < k; ++j)
    if (probs[j] > probs[best])
      best = j;
  if (!std::isfinite(probs[best]))
    return fail("the model produced a non-finite probability");
  std::string name = best < names.n ? names.v[best] : std::to_string(best);
  std::printf("%s %.3f\n", name.c_str(), probs[best]);
  return 0;
}
