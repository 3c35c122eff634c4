// The memory plan (nnc-plan-memory): entry points run on a caller's
// workspace, so steady-state train_step and step calls allocate nothing,
// and what they compute does not depend on what the workspace held before
// a call, nor on whether the caller passed one (NULL: the call allocates).
#include "NumericHelpers.h"

#include "nnrt/nnrt.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace nnc;
using namespace nnc::numtest;

namespace {

// Sequences of 16 over two recurrent layers at batch 64: buffers of up to a
// few MB (past what goes on the stack), products that run on threads.
const char *kRecurrent = "import std.rnn\n"
                         "model R(vocab V = 20, window T = 16) {\n"
                         "  input  words: int[T]\n"
                         "  target next:  int[T]\n"
                         "  e = Embedding(V, 16)(words)\n"
                         "  h1 = LSTM(64).sequence(e)\n"
                         "  h2 = LSTM(64).sequence(h1)\n"
                         "  logits = Dense(V)(h2)\n"
                         "  output probs = softmax(logits)\n"
                         "  loss cross_entropy(logits, next)\n"
                         "}\n";

// Two transformer blocks with a key/value cache for `step`.
const char *kAttention = "import std.attention\n"
                         "model A(vocab V = 24, context T = 32, width C = 64, heads H = 4) {\n"
                         "  input  chars: int[T]\n"
                         "  target next:  int[T]\n"
                         "  param  P[T, C] = normal(0.02)\n"
                         "  x = Embedding(V, C)(chars) + embedding(P, positions(chars))\n"
                         "  b1 = TransformerBlock(H)(x)\n"
                         "  b2 = TransformerBlock(H)(b1)\n"
                         "  logits = Dense(V)(LayerNorm()(b2))\n"
                         "  output probs = softmax(logits)\n"
                         "  loss cross_entropy(logits, next)\n"
                         "}\n";

// How a run hands its entry points a workspace.
enum class Ws { Kept, Dirtied, Null };

struct Result {
  std::vector<float> losses, params, stepOutputs;
  int64_t trainAllocs = 0, stepAllocs = 0; // steady-state calls to the allocator
};

int64_t allocCalls() {
  nnrt_alloc_stats s;
  nnrt_alloc_stats_get(&s);
  return s.calls;
}

// 1 warm-up and 20 train steps, then 1 warm-up and 20 generation steps.
Result run(const Compiled &c, int64_t vocab, Ws how) {
  const nnrt_model &m = *c.m;
  Result r;
  r.params.assign(size_t(m.num_params), 0.0f);
  m.init(r.params.data(), 11);
  std::vector<float> state(size_t(m.opt_state_size), 0.0f);
  void *ws = how == Ws::Null ? nullptr : nnrt_alloc_workspace(&m);
  REQUIRE((how == Ws::Null || ws));
  // NaN in every byte pattern: a buffer read before it is written shows.
  auto beforeCall = [&] {
    if (how == Ws::Dirtied)
      std::memset(ws, 0xff, size_t(m.workspace_bytes));
  };
  IOBuffers io(m);
  Rng rng(7);
  for (int32_t &t : io.inputs[0].ints)
    t = int32_t(rng.next() % uint64_t(vocab));
  for (int32_t &t : io.targets[0].ints)
    t = int32_t(rng.next() % uint64_t(vocab));
  std::fill(io.weights.begin(), io.weights.end(), 1.0f);
  auto tio = io.trainIO();
  int64_t before = 0;
  for (int s = 0; s <= 20; ++s) {
    if (s == 1)
      before = allocCalls();
    float hyper[NNRT_HYPER_COUNT] = {0.003f, float(s + 1), 0, 0};
    beforeCall();
    r.losses.push_back(m.train_step(r.params.data(), state.data(), hyper, tio.data(), ws));
  }
  r.trainAllocs = allocCalls() - before;

  std::vector<std::vector<float>> bufs;
  std::vector<void *> sio;
  for (int i = 0; i < m.num_step_tensors; ++i) {
    bufs.emplace_back(size_t(m.step_tensors[i].size * m.step_batch), 0.0f);
    sio.push_back(bufs.back().data());
  }
  for (int s = 0; s <= 20; ++s) {
    if (s == 1)
      before = allocCalls();
    for (int i = 0; i < m.num_step_tensors; ++i)
      if (m.step_tensors[i].role == NNRT_INPUT) {
        int32_t id = int32_t((s * 7 + 3) % vocab);
        for (float &slot : bufs[size_t(i)])
          std::memcpy(&slot, &id, 4);
      }
    beforeCall();
    m.step(r.params.data(), sio.data(), ws);
    for (int i = 0; i < m.num_step_tensors; ++i)
      if (m.step_tensors[i].role == NNRT_OUTPUT)
        r.stepOutputs.insert(r.stepOutputs.end(), bufs[size_t(i)].begin(), bufs[size_t(i)].end());
  }
  r.stepAllocs = allocCalls() - before;
  nnrt_free_floats(static_cast<float *>(ws));
  return r;
}

void checkPlan(const char *source, int64_t batch, int64_t vocab, const char *name) {
  Compiled c = compileWithStep(source, adamOptions(batch), name);
  INFO(name << ": workspace " << c.m->workspace_bytes << " bytes");
  REQUIRE(c.m->workspace_bytes > 0);
  REQUIRE(c.m->workspace_bytes == c.abi.workspaceBytes);
  Result kept = run(c, vocab, Ws::Kept);
  CHECK(kept.trainAllocs == 0);
  CHECK(kept.stepAllocs == 0);
  CHECK(kept.losses.back() < kept.losses.front()); // it trains
  Result dirtied = run(c, vocab, Ws::Dirtied);
  CHECK(dirtied.losses == kept.losses);
  CHECK(dirtied.params == kept.params);
  CHECK(dirtied.stepOutputs == kept.stepOutputs);
  // Without a workspace each call allocates its own: the counter sees it.
  Result own = run(c, vocab, Ws::Null);
  CHECK(own.trainAllocs >= 20);
  CHECK(own.losses == kept.losses);
  CHECK(own.params == kept.params);
  CHECK(own.stepOutputs == kept.stepOutputs);
}

} // namespace

TEST_CASE("memory plan: a recurrent model's steady-state train_step and step allocate nothing",
          "[memplan]") {
  checkPlan(kRecurrent, 64, 20, "memplan_recurrent.nn");
}

TEST_CASE("memory plan: an attention model's steady-state train_step and step allocate nothing",
          "[memplan]") {
  checkPlan(kAttention, 16, 24, "memplan_attention.nn");
}

// The key/value cache is the step's state, written in place: a step at
// position p changes row p of every cache and nothing else, and a step past
// the context (p = T) leaves every cache as it was (nn.cache_write: a
// position outside [0, N) changes nothing).
TEST_CASE("step: the key/value cache is written in place, one row per step", "[memplan]") {
  Compiled c = compileWithStep(kAttention, adamOptions(16), "cache_rows.nn");
  const nnrt_model &m = *c.m;
  std::vector<float> params(size_t(m.num_params));
  m.init(params.data(), 3);
  void *ws = nnrt_alloc_workspace(&m);
  std::vector<std::vector<float>> bufs;
  std::vector<void *> sio;
  std::vector<int> caches;
  int position = -1;
  for (int i = 0; i < m.num_step_tensors; ++i) {
    const nnrt_tensor_info &t = m.step_tensors[i];
    bufs.emplace_back(size_t(t.size * m.step_batch), 0.0f);
    std::string name = t.name;
    if (t.role == NNRT_STATE && name.find("cache") != std::string::npos) {
      caches.push_back(i);
      for (size_t j = 0; j < bufs.back().size(); ++j)
        bufs.back()[j] = 1000.0f + float(j); // every row recognisable
    }
    if (t.role == NNRT_STATE && name == "position")
      position = i;
    if (t.role == NNRT_INPUT)
      for (float &slot : bufs.back()) {
        int32_t id = 5;
        std::memcpy(&slot, &id, 4);
      }
  }
  for (auto &b : bufs)
    sio.push_back(b.data());
  REQUIRE(caches.size() == 4); // keys and values of two blocks
  REQUIRE(position >= 0);
  for (float p : {7.0f, 32.0f}) {
    bufs[size_t(position)][0] = p;
    std::vector<std::vector<float>> before;
    for (int i : caches)
      before.push_back(bufs[size_t(i)]);
    m.step(params.data(), sio.data(), ws);
    for (size_t k = 0; k < caches.size(); ++k) {
      const std::vector<float> &now = bufs[size_t(caches[k])];
      const nnrt_tensor_info &info = m.step_tensors[caches[k]];
      int64_t rowLen = info.shape[info.rank - 1]; // a row: one position's C values
      for (size_t j = 0; j < now.size(); ++j) {
        bool inRow = int64_t(j) / rowLen == int64_t(p);
        INFO("position " << p << ", cache " << k << ", element " << j);
        if (inRow)
          CHECK(now[j] != before[k][j]); // the new key or value
        else
          REQUIRE(now[j] == before[k][j]);
      }
    }
  }
  nnrt_free_floats(static_cast<float *>(ws));
}
