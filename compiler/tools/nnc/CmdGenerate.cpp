// CmdGenerate.cpp: nnc generate: text from a trained recurrent or attention
// model, one step per token (or the whole window again, --recompute).
#include "Driver.h"

#include <cstdio>

namespace nnc::tool {

int cmdGenerate(const Args &a) {
  if (!a.has("checkpoint"))
    return fail("generate needs --checkpoint CKPT (written by nnc train --save)");
  if (!a.has("prompt"))
    return fail("generate needs --prompt TEXT to start from");
  auto g = loadGraph(a, /*withStep=*/true);
  if (!g)
    return 1;
  bool recompute = a.has("recompute");
  if (g->scans.empty() && !g->usesCache && !recompute)
    return fail("model '" + g->modelName +
                "' has no recurrent cells and no attention "
                "cache: nnc generate needs a model with a cell (LSTM, GRU, ...) or "
                "cache(...) (std.attention), or --recompute");
  if (!g->scans.empty() && !g->usesCache && g->timeParam.empty() && !recompute)
    return fail("model '" + g->modelName +
                "' has no time parameter: declare the "
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
  if (!recompute) {
    if (!g->step)
      return fail("model '" + g->modelName + "' has no one-step graph to generate with");
    o->stepGraph = g->step.get();
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

} // namespace nnc::tool
