// nnrt sampling (greedy, temperature, top-k, top-p) and text generation
// through the ABI's step entry point, driven by a fake recurrent model: a
// deterministic next-token table whose state counts the steps it has seen,
// so the tests can check that state starts at zero, is carried from call to
// call, and that rows other than 0 are kept zero.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

using namespace rt_test;

namespace {

constexpr int64_t SB = 3; // step_batch

nnrt_tensor_info tensor(const char *name, int role, int dtype, std::vector<int64_t> shape) {
  nnrt_tensor_info t{};
  t.name = name;
  t.role = role;
  t.dtype = dtype;
  t.rank = int32_t(shape.size());
  t.size = 1;
  for (size_t d = 0; d < shape.size(); d++) {
    t.shape[d] = shape[d];
    t.size *= shape[d];
  }
  return t;
}

// What the fake step saw at each call (row 0), and whether the other rows
// came in zero.
struct StepLog {
  std::vector<int32_t> tokens;
  std::vector<float> counts; // state "count" before the call
  std::vector<float> params;
  bool other_rows_zero = true;
  int64_t vocab = 6;
  bool nan = false;
  bool words = true; // give the reserved id 0 the most probability
} steplog;

// The fake's next token after `tok` when it has seen `count` steps before.
int32_t next_token(int32_t tok, int count, int64_t V) {
  return int32_t((tok + count) % (V - 1)) + 1;
}

// io: token ids int32[SB], state float[SB][2] (steps seen, last token),
// probs float[SB][V], an extra output float[SB][2].
void fake_step(const float *params, void *const *io, void *) {
  auto tok = static_cast<const int32_t *>(io[0]);
  auto state = static_cast<float *>(io[1]);
  auto probs = static_cast<float *>(io[2]);
  auto extra = static_cast<float *>(io[3]);
  int64_t V = steplog.vocab;
  steplog.tokens.push_back(tok[0]);
  steplog.counts.push_back(state[0]);
  steplog.params.push_back(params[0]);
  for (int64_t r = 1; r < SB; r++)
    if (tok[r] != 0 || state[r * 2] != 0 || state[r * 2 + 1] != 0)
      steplog.other_rows_zero = false;
  for (int64_t r = 0; r < SB; r++) {
    int count = int(state[r * 2]);
    int32_t next = next_token(tok[r], count, V);
    float *p = probs + r * V;
    for (int64_t i = 0; i < V; i++)
      p[i] = 0.2f / float(V - 2);
    if (steplog.words)
      p[0] = 0.5f; // the reserved id is the most probable: never picked
    p[next] = 0.3f;
    if (steplog.nan)
      for (int64_t i = 0; i < V; i++)
        p[i] = std::numeric_limits<float>::quiet_NaN();
    state[r * 2] += 1; // every row is updated, so keeping rows 1.. zero is the runtime's job
    state[r * 2 + 1] = float(tok[r]);
    extra[r * 2] = extra[r * 2 + 1] = 1;
  }
}

// The fake as a window model for predict: x int32[batch][25] (pre-padded
// with 0) -> probs float[batch][V], the same next token as the step after
// the window's tokens (the count is the number of tokens before the last).
int predict_calls = 0;
void fake_predict(const float *, void *const *io, void *) {
  auto x = static_cast<const int32_t *>(io[0]);
  auto probs = static_cast<float *>(io[1]);
  int64_t V = steplog.vocab;
  predict_calls++;
  int n = 0;
  for (int i = 0; i < 25; i++)
    n += x[i] != 0;
  float *p = probs;
  for (int64_t i = 0; i < V; i++)
    p[i] = 0.2f / float(V - 2);
  if (steplog.words)
    p[0] = 0.5f;
  p[next_token(x[24], n - 1, V)] = 0.3f;
}

struct FakeModel {
  std::vector<nnrt_tensor_info> tensors, step_tensors;
  nnrt_model m{};
  float params[1] = {0.25f};
  explicit FakeModel(int64_t V, bool words = true) {
    steplog = StepLog();
    steplog.vocab = V;
    steplog.words = words;
    tensors = {
        tensor("scale", NNRT_PARAM, NNRT_F32, {1}),
        tensor("x", NNRT_INPUT, NNRT_I32, {25}),
        tensor("y", NNRT_TARGET, NNRT_I32, {1}),
        tensor("probs", NNRT_OUTPUT, NNRT_F32, {V}),
    };
    step_tensors = {
        tensor("x", NNRT_INPUT, NNRT_I32, {1}),
        tensor("lstm.state", NNRT_STATE, NNRT_F32, {2}),
        tensor("probs", NNRT_OUTPUT, NNRT_F32, {V}),
        tensor("lstm.h", NNRT_OUTPUT, NNRT_F32, {2}),
    };
    m.abi_version = NNRT_ABI_VERSION;
    m.optimizer = NNRT_OPT_ADAM;
    m.loss = NNRT_LOSS_CROSS_ENTROPY;
    m.name = "TextGen";
    m.batch = 8;
    m.num_params = 1;
    m.num_tensors = int32_t(tensors.size());
    m.tensors = tensors.data();
    m.step_batch = SB;
    m.num_step_tensors = int32_t(step_tensors.size());
    m.step_tensors = step_tensors.data();
    m.step = fake_step;
    m.predict = fake_predict;
  }
};

struct Vocab {
  nnrt_vocab v{};
  Vocab(int kind, const std::string &text) {
    nnrt_error err{};
    if (nnrt_vocab_build(&v, kind, text.data(), text.size(), &err))
      throw std::runtime_error(err.msg);
  }
  ~Vocab() { nnrt_vocab_free(&v); }
};

// Runs nnrt_generate into a buffer; returns the text or "error: msg".
std::string generate(const FakeModel &fm, const nnrt_vocab &v, const char *prompt, int64_t n,
                     const nnrt_sampling *s = nullptr, uint64_t seed = 1, bool recompute = false) {
  char *text = nullptr;
  nnrt_error err{};
  if ((recompute ? nnrt_generate_recompute : nnrt_generate)(&fm.m, fm.params, &v, prompt, n, s,
                                                            seed, nullptr, &text, &err)) {
    CHECK(text == nullptr);
    return std::string("error: ") + err.msg;
  }
  std::string out = text;
  free(text);
  return out;
}

int32_t sample(const std::vector<float> &p, const nnrt_sampling *s, nnrt_rng &rng) {
  int32_t id = -1;
  nnrt_error err{};
  int rc = nnrt_sample(p.data(), int64_t(p.size()), s, &rng, &id, &err);
  if (rc)
    FAIL(err.msg);
  return id;
}

// Frequencies of each id over n draws.
std::vector<double> frequencies(const std::vector<float> &p, const nnrt_sampling &s, int n,
                                uint64_t seed = 7) {
  nnrt_rng rng;
  nnrt_rng_seed(&rng, seed);
  std::vector<double> f(p.size());
  for (int i = 0; i < n; i++)
    f[size_t(sample(p, &s, rng))] += 1.0 / n;
  return f;
}

} // namespace

TEST_CASE("sample: greedy is the argmax, lowest id on ties", "[runtime]") {
  nnrt_rng rng;
  nnrt_rng_seed(&rng, 1);
  nnrt_rng before = rng;
  nnrt_sampling greedy{};
  CHECK(sample({0.1f, 0.4f, 0.4f, 0.1f}, &greedy, rng) == 1);
  CHECK(sample({0.1f, 0.2f, 0.7f}, nullptr, rng) == 2);
  CHECK(std::memcmp(&rng, &before, sizeof rng) == 0); // greedy draws nothing
  nnrt_sampling s{};
  s.temperature = 1e-3f; // temperature -> 0 is greedy
  for (int i = 0; i < 1000; i++)
    CHECK(sample({0.2f, 0.45f, 0.35f}, &s, rng) == 1);
  // A non-greedy draw consumes exactly one uniform, so a seed fixes the stream.
  s.temperature = 1;
  nnrt_rng a = rng, b = rng;
  sample({0.2f, 0.45f, 0.35f}, &s, a);
  nnrt_rng_uniform(&b);
  CHECK(std::memcmp(&a, &b, sizeof a) == 0);
}

TEST_CASE("sample: temperature reshapes p^(1/T)", "[runtime]") {
  nnrt_sampling s{};
  s.temperature = 1;
  auto f = frequencies({0.2f, 0.3f, 0.5f}, s, 40000);
  CHECK(f[0] == Approx(0.2).margin(0.01));
  CHECK(f[1] == Approx(0.3).margin(0.01));
  CHECK(f[2] == Approx(0.5).margin(0.01));
  s.temperature = 0.5f; // p^2: 0.04, 0.64 -> 1/17, 16/17
  f = frequencies({0.2f, 0.8f}, s, 40000);
  CHECK(f[0] == Approx(1.0 / 17).margin(0.01));
  s.temperature = 2; // sqrt: 0.447, 0.894 -> 1/3, 2/3
  f = frequencies({0.2f, 0.8f}, s, 40000);
  CHECK(f[0] == Approx(1.0 / 3).margin(0.01));
}

TEST_CASE("sample: top-k and top-p keep only the best ids", "[runtime]") {
  nnrt_sampling s{};
  s.temperature = 1;
  SECTION("top-k") {
    s.top_k = 2;
    std::vector<float> p = {0.1f, 0.25f, 0.05f, 0.2f, 0.3f, 0.1f};
    auto f = frequencies(p, s, 20000);
    CHECK(f[0] + f[2] + f[3] + f[5] == 0); // never outside the two best
    CHECK(f[4] == Approx(0.3 / 0.55).margin(0.015));
    CHECK(f[1] == Approx(0.25 / 0.55).margin(0.015));
    s.top_k = 2; // ties at the boundary: the lower ids
    f = frequencies({0.3f, 0.1f, 0.3f, 0.3f}, s, 2000);
    CHECK(f[1] + f[3] == 0);
    s.top_k = 100; // more than there are: all
    f = frequencies({0.5f, 0.5f}, s, 2000);
    CHECK(f[0] > 0.4);
    CHECK(f[1] > 0.4);
  }
  SECTION("top-p (nucleus)") {
    std::vector<float> p = {0.05f, 0.5f, 0.15f, 0.3f};
    s.top_p = 0.7f; // 0.5 < 0.7 <= 0.8: {1, 3}
    auto f = frequencies(p, s, 20000);
    CHECK(f[0] + f[2] == 0);
    CHECK(f[1] == Approx(0.625).margin(0.015));
    s.top_p = 0.5f; // the best alone reaches it
    f = frequencies(p, s, 1000);
    CHECK(f[1] == Approx(1));
    s.top_p = 0.81f; // needs three
    f = frequencies(p, s, 20000);
    CHECK(f[0] == 0);
    CHECK(f[2] > 0.1);
    s.top_p = 0.01f; // at least one id always stays
    CHECK(frequencies(p, s, 100)[1] == Approx(1));
  }
  SECTION("combined: temperature, then top-k, then top-p") {
    s.top_k = 3;
    s.top_p = 0.6f; // top-3 mass 0.9; 0.4 < 0.54 <= 0.7: {0, 1}
    auto f = frequencies({0.4f, 0.3f, 0.2f, 0.1f}, s, 20000);
    CHECK(f[2] + f[3] == 0);
    CHECK(f[0] == Approx(4.0 / 7).margin(0.015));
    s.temperature = 0.5f; // 0.16, 0.09, 0.04: top-3 mass 0.29; 0.16 < 0.174: {0, 1}
    f = frequencies({0.4f, 0.3f, 0.2f, 0.1f}, s, 20000);
    CHECK(f[2] + f[3] == 0);
    CHECK(f[0] == Approx(16.0 / 25).margin(0.015));
  }
}

TEST_CASE("sample: same seed, same draws", "[runtime]") {
  nnrt_sampling s{};
  s.temperature = 0.8f;
  s.top_k = 5;
  s.top_p = 0.9f;
  std::vector<float> p = {0.1f, 0.05f, 0.2f, 0.15f, 0.1f, 0.3f, 0.1f};
  auto draws = [&](uint64_t seed) {
    nnrt_rng rng;
    nnrt_rng_seed(&rng, seed);
    std::vector<int32_t> v;
    for (int i = 0; i < 200; i++)
      v.push_back(sample(p, &s, rng));
    return v;
  };
  CHECK(draws(42) == draws(42));
  CHECK(draws(42) != draws(43));
}

TEST_CASE("sample: zero, negative, NaN and infinite probabilities are safe", "[runtime]") {
  const float nan = std::numeric_limits<float>::quiet_NaN(),
              inf = std::numeric_limits<float>::infinity();
  std::vector<float> p = {nan, 0.0f, 0.3f, -1.0f, inf, 0.0f};
  nnrt_rng rng;
  nnrt_rng_seed(&rng, 3);
  nnrt_sampling s{};
  CHECK(sample(p, &s, rng) == 2);
  s.temperature = 0.5f;
  for (int i = 0; i < 100; i++)
    CHECK(sample(p, &s, rng) == 2);
  s.top_k = 3;
  s.top_p = 0.5f;
  for (int i = 0; i < 100; i++)
    CHECK(sample(p, &s, rng) == 2);
  // Tiny probabilities whose p^(1/T) underflows are never drawn.
  s = nnrt_sampling{};
  s.temperature = 0.01f;
  for (int i = 0; i < 100; i++)
    CHECK(sample({1e-30f, 0.5f, 1e-20f}, &s, rng) == 1);

  int32_t id = 77;
  nnrt_error err{};
  std::vector<float> bad = {nan, 0.0f, -2.0f};
  CHECK(nnrt_sample(bad.data(), 3, &s, &rng, &id, &err) != 0);
  CHECK(std::string(err.msg) ==
        "no probability among the 3 is positive (all zero or NaN: did training diverge?)");
  CHECK(id == 77);
  CHECK(nnrt_sample(bad.data(), 0, &s, &rng, &id, &err) != 0);
  CHECK(std::string(err.msg) == "cannot sample from 0 probabilities");
  s.temperature = -1;
  CHECK(nnrt_sample(p.data(), 6, &s, &rng, &id, &err) != 0);
  CHECK(std::string(err.msg) == "sampling temperature -1: use a number >= 0 (0: greedy)");
  s.temperature = nan;
  CHECK(nnrt_sample(p.data(), 6, &s, &rng, &id, &err) != 0);
  s.temperature = 1;
  s.top_k = -2;
  CHECK(nnrt_sample(p.data(), 6, &s, &rng, &id, &err) != 0);
  CHECK(std::string(err.msg) == "sampling top_k -2: use 0 (off) or a positive count");
  s.top_k = 0;
  s.top_p = 1.5f;
  CHECK(nnrt_sample(p.data(), 6, &s, &rng, &id, &err) != 0);
  CHECK(std::string(err.msg) == "sampling top_p 1.5: use a number between 0 and 1 (0 or 1: off)");
}

TEST_CASE("generate: the prompt primes the state, then tokens are fed back", "[runtime]") {
  Vocab w(NNRT_TOKENS_WORDS, "the cat sat on the mat"); // the=1 cat=2 sat=3 on=4 mat=5
  FakeModel fm(w.v.size);
  // Greedy: after "the cat" (2 steps) the fake says (2 + 1) % 5 + 1 = 4
  // "on", then (4 + 2) % 5 + 1 = 2 "cat", then (2 + 3) % 5 + 1 = 1 "the".
  CHECK(generate(fm, w.v, "The cat...", 3) == "the cat on cat the");
  CHECK(steplog.tokens == std::vector<int32_t>{1, 2, 4, 2}); // no step after the last token
  CHECK(steplog.counts == std::vector<float>{0, 1, 2, 3});   // starts at zero, carried
  CHECK(steplog.params == std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f});
  CHECK(steplog.other_rows_zero);

  // A fresh call starts from a zero state again; with no token to write,
  // nothing runs.
  steplog = StepLog();
  steplog.vocab = w.v.size;
  CHECK(generate(fm, w.v, "mat", 0) == "mat");
  CHECK(steplog.counts.empty());
  CHECK(generate(fm, w.v, "mat", 1) == "mat the");
  CHECK(steplog.counts == std::vector<float>{0});

  // Longer runs never pick the reserved id 0, although the fake gives it 0.5.
  nnrt_sampling s{};
  s.temperature = 1;
  std::string a = generate(fm, w.v, "the", 40, &s, 11);
  CHECK(a == generate(fm, w.v, "the", 40, &s, 11)); // same seed, same text
  CHECK(a != generate(fm, w.v, "the", 40, &s, 12));
  int words = 0;
  for (size_t i = 0; i < a.size(); i++)
    words += a[i] == ' ';
  CHECK(words == 40);
  CHECK(a.find("  ") == std::string::npos);

  // To a FILE as it goes: the same text.
  FILE *f = tmpfile();
  REQUIRE(f);
  nnrt_error err{};
  REQUIRE(nnrt_generate(&fm.m, fm.params, &w.v, "the", 40, &s, 11, f, nullptr, &err) == 0);
  rewind(f);
  char buf[1024] = {0};
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  CHECK(std::string(buf, got) == a);
}

TEST_CASE("generate: characters", "[runtime]") {
  Vocab c(NNRT_TOKENS_CHARS, "abcd"); // a=0 b=1 c=2 d=3
  FakeModel fm(c.v.size, false);
  // After "ab": (1 + 1) % 3 + 1 = 3 "d", then (3 + 2) % 3 + 1 = 3 "d".
  CHECK(generate(fm, c.v, "ab", 2) == "abdd");
  CHECK(steplog.tokens == std::vector<int32_t>{0, 1, 3});
  CHECK(generate(fm, c.v, "", 2) ==
        "error: the prompt is empty: give at least one character to start from");
  CHECK(generate(fm, c.v, "abz", 2) ==
        "error: 'z' is not in the vocabulary (did you train on this corpus?)");
}

TEST_CASE("generate: a full key/value cache starts again from the last half of its positions",
          "[runtime]") {
  Vocab w(NNRT_TOKENS_WORDS, "the cat sat on the mat");
  FakeModel fm(w.v.size);
  fm.m.step_context = 4;
  std::string text = generate(fm, w.v, "the cat", 5);
  // Positions 0..3 fill the cache; the fifth token starts again from zero
  // states with the last 2 tokens it held, then goes on.
  CHECK(steplog.counts == std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3});
  REQUIRE(steplog.tokens.size() == 8);
  CHECK(steplog.tokens[4] == steplog.tokens[2]);
  CHECK(steplog.tokens[5] == steplog.tokens[3]);
  CHECK(std::count(text.begin(), text.end(), ' ') == 6);
  // Without a context the state just goes on.
  FakeModel open(w.v.size);
  generate(open, w.v, "the cat", 5);
  CHECK(steplog.counts == std::vector<float>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("generate: running predict on the window again gives what the step gives", "[runtime]") {
  Vocab w(NNRT_TOKENS_WORDS, "the cat sat on the mat");
  FakeModel fm(w.v.size);
  predict_calls = 0;
  CHECK(generate(fm, w.v, "The cat...", 3, nullptr, 1, true) == "the cat on cat the");
  CHECK(predict_calls == 3);
  CHECK(steplog.tokens.empty()); // no step ran
  nnrt_sampling s{};
  s.temperature = 1;
  CHECK(generate(fm, w.v, "the", 20, &s, 5, true) == generate(fm, w.v, "the", 20, &s, 5));
  FakeModel two(w.v.size);
  two.tensors.insert(two.tensors.begin() + 2, tensor("z", NNRT_INPUT, NNRT_I32, {25}));
  two.m.tensors = two.tensors.data();
  two.m.num_tensors = int32_t(two.tensors.size());
  CHECK(generate(two, w.v, "the", 2, nullptr, 1, true) ==
        "error: model 'TextGen': generating by running the model again needs one int input of "
        "token ids [T]");
}

TEST_CASE("generate: clear errors", "[runtime]") {
  Vocab w(NNRT_TOKENS_WORDS, "the cat sat on the mat");
  FakeModel fm(w.v.size);
  CHECK(generate(fm, w.v, "the ishmeal sat, Moby", 3) ==
        "error: 'ishmeal', 'moby' are not in the vocabulary (did you train on this corpus?)");
  CHECK(generate(fm, w.v, "...!", 3) == "error: the prompt has no words (punctuation is dropped, "
                                        "as in training): give at least one word to start "
                                        "from");
  CHECK(generate(fm, w.v, nullptr, 3).rfind("error: the prompt has no words", 0) == 0);
  CHECK(generate(fm, w.v, "the", -1) == "error: cannot generate -1 tokens");
  nnrt_sampling s{};
  s.top_p = 2;
  CHECK(generate(fm, w.v, "the", 1, &s) ==
        "error: sampling top_p 2: use a number between 0 and 1 (0 or 1: off)");
  CHECK(steplog.tokens.empty()); // nothing ran

  steplog.nan = true;
  CHECK(generate(fm, w.v, "the", 3) ==
        "error: generated token 1: no probability among the 6 is positive (all zero or "
        "NaN: did training diverge?)");

  // More outputs than tokens is fine (only the corpus's ids are sampled);
  // fewer is not.
  Vocab other(NNRT_TOKENS_WORDS, "a b c d e f g h");
  CHECK(generate(fm, other.v, "a", 3) ==
        "error: model 'TextGen' gives 6 probabilities per step in 'probs', the "
        "vocabulary has 9 tokens (is the checkpoint from another corpus?)");

  FakeModel bad(w.v.size);
  bad.m.step = nullptr;
  CHECK(generate(bad, w.v, "the", 3) ==
        "error: model 'TextGen' has no step function: it has no recurrent cells or "
        "attention cache");
  bad = FakeModel(w.v.size);
  bad.m.step_tensors = bad.step_tensors.data();
  bad.m.tensors = bad.tensors.data();
  bad.step_tensors[0].dtype = NNRT_F32;
  CHECK(generate(bad, w.v, "the", 3) ==
        "error: model 'TextGen': generation feeds one token id per step, the step's "
        "inputs are not one int32 of size 1");
  bad.step_tensors[0].dtype = NNRT_I32;
  std::swap(bad.step_tensors[1], bad.step_tensors[2]);
  CHECK(
      generate(bad, w.v, "the", 3) ==
      "error: model 'TextGen': step tensor 'lstm.state' is out of order (inputs, states, outputs)");
  std::swap(bad.step_tensors[1], bad.step_tensors[2]);
  bad.m.step_batch = 0;
  CHECK(generate(bad, w.v, "the", 3) ==
        "error: model 'TextGen' has a step function but no step tensor table");
  bad.m.step_batch = SB;
  bad.m.abi_version = 1;
  CHECK(generate(bad, w.v, "the", 3) ==
        "error: model 'TextGen' was compiled for nnrt ABI 1, this runtime has ABI " +
            std::to_string(NNRT_ABI_VERSION));

  nnrt_vocab empty{};
  CHECK(generate(fm, empty, "the", 3) == "error: generation needs a vocabulary");
}
