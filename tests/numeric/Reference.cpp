#include "Reference.h"
#include "GradCheck.h"
#include "NumericHelpers.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>

namespace nnc::numtest {

Reference readReference(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  Reference out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    size_t colon = line.find(" : ");
    if (colon == std::string::npos)
      throw std::runtime_error("bad line in " + path + ": " + line.substr(0, 60));
    std::istringstream head(line.substr(0, colon)), vals(line.substr(colon + 3));
    std::string name;
    int rank = 0;
    head >> name >> rank;
    RefTensor t;
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) {
      int64_t d;
      head >> d;
      t.shape.push_back(d);
      n *= d;
    }
    double v;
    while (vals >> v)
      t.values.push_back(v);
    if (int64_t(t.values.size()) != n)
      throw std::runtime_error("wrong value count for " + name + " in " + path);
    out[name] = std::move(t);
  }
  return out;
}

const RefTensor &refTensor(const Reference &r, const std::string &name) {
  auto it = r.find(name);
  if (it == r.end())
    throw std::runtime_error("reference has no '" + name + "'");
  return it->second;
}

void Compare::log(const std::string &what, double rel, double scale) {
  std::cout << "  " << what << ": max |nnc - ref| / (|ref| + scale) " << rel << " (scale " << scale
            << ")\n";
}

void runLayerCase(const Reference &ref, const LayerCase &lc) {
  const std::string &cn = lc.name;
  INFO("case " << cn << ", model:\n" << lc.source);
  Compiled c = compileSource(lc.source, sgdOptions(lc.batch), cn + ".nn");
  const nnrt_model &m = *c.m;
  auto refT = [&](const std::string &n) -> const RefTensor & {
    return refTensor(ref, cn + "/" + n);
  };

  // Parameters: exactly the reference's (names and shapes), and D.
  const std::string prefix = cn + "/params/";
  std::map<std::string, std::string> ours; // ours -> the reference's
  for (const auto &[name, t] : ref)
    if (name.compare(0, prefix.size(), prefix) == 0) {
      std::string r = name.substr(prefix.size());
      ours[lc.ourName(r)] = r;
    }
  REQUIRE(!ours.empty());
  std::set<std::string> names, want;
  for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM))
    if (std::string(t->name) != "D")
      names.insert(t->name);
  for (const auto &[n, r] : ours)
    want.insert(n);
  REQUIRE(names == want);
  std::vector<float> params(size_t(m.num_params), 0.0f);
  for (const auto &[n, r] : ours) {
    const nnrt_tensor_info &t = c.tensor(n);
    const RefTensor &v = refT("params/" + r);
    INFO("parameter " << n);
    REQUIRE(std::vector<int64_t>(t.shape, t.shape + t.rank) == v.shape);
    for (int64_t j = 0; j < t.size; ++j)
      params[size_t(t.offset + j)] = float(v.values[size_t(j)]);
    for (int64_t j = 0; j < t.size; ++j) // exact in float32 by construction
      REQUIRE(double(params[size_t(t.offset + j)]) == v.values[size_t(j)]);
  }

  // Inputs, targets, row weights.
  IOBuffers io(m);
  auto copyIn = [&](const std::string &input) {
    auto &b = io.inputs[size_t(ioIndex(c, NNRT_INPUT, input))].floats;
    const RefTensor &v = refT(input);
    REQUIRE(b.size() == v.values.size());
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = float(v.values[i]);
  };
  copyIn("x");
  for (const std::string &f : lc.floatInputs)
    copyIn(f);
  auto &pos = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "pos"))].ints;
  for (size_t i = 0; i < pos.size(); ++i)
    pos[i] = int32_t(i); // row b, position t: b * T + t
  const RefTensor &tg = refT("t"), &w = refT("w");
  REQUIRE(io.targets[0].floats.size() == tg.values.size());
  for (size_t i = 0; i < tg.values.size(); ++i)
    io.targets[0].floats[i] = float(tg.values[i]);
  REQUIRE(io.weights.size() == w.values.size());
  for (size_t i = 0; i < w.values.size(); ++i)
    io.weights[i] = float(w.values[i]);

  Compare cmp(1e-5, lc.floor);
  std::cout << "reference " << cn << ":\n";
  auto pio = io.predictIO();
  m.predict(params.data(), pio.data(), numtest::workspace(&m));
  std::vector<float> outPredict = io.outputs[0].floats;
  cmp.run(lc.out + " (predict)", refT(lc.out), [&](size_t i) { return double(outPredict[i]); });

  auto tio = io.trainIO();
  const double lr = 1024.0;
  double loss = m.eval_step(params.data(), tio.data(), numtest::workspace(&m));
  std::vector<float> stepped = params, state(size_t(m.opt_state_size), 0.0f);
  float hyper[NNRT_HYPER_COUNT] = {float(lr), 1.0f, 0, 0};
  double trainLoss =
      m.train_step(stepped.data(), state.data(), hyper, tio.data(), numtest::workspace(&m));
  const RefTensor &lossRef = refT("loss");
  cmp.run("loss (eval_step)", lossRef, [&](size_t) { return loss; });
  cmp.run("loss (train_step)", lossRef, [&](size_t) { return trainLoss; });
  cmp.run(lc.out + " (train_step)", refT(lc.out),
          [&](size_t i) { return double(io.outputs[0].floats[i]); });
  auto grad = [&](size_t i) { return (double(params[i]) - double(stepped[i])) / lr; };
  for (const auto &[n, r] : ours) {
    const nnrt_tensor_info &t = c.tensor(n);
    cmp.run("d loss / d " + n, refT("grad/" + r),
            [&](size_t j) { return grad(size_t(t.offset) + j); });
  }
  const nnrt_tensor_info &D = c.tensor("D");
  cmp.run("d loss / d x", refT("dx"), [&](size_t j) { return grad(size_t(D.offset) + j); });

  std::cout << "reference " << cn << ": max |nnc - ref| " << cmp.maxAbs
            << ", max relative to (|ref| + scale) " << cmp.maxRel << "\n";
  INFO("values outside 1e-5 * (|ref| + scale) (first 16 of " << cmp.bad << "):\n"
                                                             << cmp.report.str());
  CHECK(cmp.bad == 0);
}

} // namespace nnc::numtest
