// The Iris MLP end to end through the front end: shapes, parameter names,
// summary rows, the train block.
#include "DslTestUtil.h"

using namespace nnc::dsl;
using namespace nnc::dsl::test;

static const char *kIris = R"(# the course's Iris MLP
import std.layers

model Iris {
  input  x: float[4]
  target y: int              # a class index
  h1 = Dense(8, relu)(x)
  h2 = Dense(units = 8, activation = relu)(h1)
  logits = Dense(3)(h2)
  output probs = softmax(logits)
  loss cross_entropy(logits, y)
}

train Iris {
  data csv("data/iris.csv", label = "species")
  optimizer adam(lr = 0.01)
  batch 8
  epochs 150
  test_split 0.25
  validation_split 0.0
  seed 42
  scale minmax
}
)";

TEST_CASE("Iris builds into a checked graph", "[dsl][iris]") {
  auto r = buildSource(kIris, "", "examples/iris/iris.nn");
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  CHECK(g.modelName == "Iris");
  CHECK(g.file == "examples/iris/iris.nn");

  REQUIRE(g.inputs.size() == 1);
  CHECK(g.inputs[0].name == "x");
  CHECK(g.inputs[0].shape == std::vector<int64_t>{4});
  CHECK(g.inputs[0].dtype == DType::F32);
  REQUIRE(g.targets.size() == 1);
  CHECK(g.targets[0].name == "y");
  CHECK(g.targets[0].shape.empty());
  CHECK(g.targets[0].dtype == DType::I32);
  REQUIRE(g.outputs.size() == 1);
  CHECK(g.outputs[0].name == "probs");
  CHECK(g.outputs[0].shape == std::vector<int64_t>{3});
  CHECK(g.nodes[size_t(g.outputs[0].node)].op == OpKind::Softmax);

  // parameters with dotted names, shapes, initializers
  REQUIRE(g.params.size() == 6);
  std::vector<std::string> names;
  for (const Param &p : g.params)
    names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"h1.W", "h1.b", "h2.W", "h2.b", "logits.W", "logits.b"});
  CHECK(findParam(g, "h1.W")->shape == std::vector<int64_t>{4, 8});
  CHECK(findParam(g, "h1.W")->init == "glorot_uniform");
  CHECK(findParam(g, "h1.W")->fanIn == 4);
  CHECK(findParam(g, "h1.W")->fanOut == 8);
  CHECK(findParam(g, "h1.b")->shape == std::vector<int64_t>{8});
  CHECK(findParam(g, "h1.b")->init == "zeros");
  CHECK(findParam(g, "logits.W")->shape == std::vector<int64_t>{8, 3});

  // summary rows
  REQUIRE(g.layers.size() == 3);
  CHECK(g.layers[0].name == "h1");
  CHECK(g.layers[0].kind == "Dense");
  CHECK(g.layers[0].outputShape == std::vector<int64_t>{8});
  CHECK(g.layers[0].numParams == 40);
  CHECK(g.layers[1].numParams == 72);
  CHECK(g.layers[2].name == "logits");
  CHECK(g.layers[2].outputShape == std::vector<int64_t>{3});
  int64_t total = 0;
  for (const auto &row : g.layers)
    total += row.numParams;
  CHECK(total == 139);

  // loss
  REQUIRE(g.lossNode >= 0);
  const Node &loss = g.nodes[size_t(g.lossNode)];
  CHECK(loss.op == OpKind::CrossEntropy);
  CHECK(loss.shape.empty());
  CHECK_FALSE(loss.batched);
  CHECK(loss.loc.line == 11);

  // topological order, locations in the user's file
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int op : g.nodes[i].operands)
      CHECK(op < int(i));
    CHECK(g.nodes[i].loc.file == "examples/iris/iris.nn");
  }
  // nodes from inside Dense point at the layer call
  const Node *h1 = findNode(g, "h1");
  REQUIRE(h1);
  CHECK(h1->op == OpKind::Relu);
  CHECK(h1->loc.line == 7);
  CHECK(h1->loc.col == 8);
  CHECK(h1->batched);
  const Node *logits = findNode(g, "logits");
  REQUIRE(logits);
  CHECK(logits->op == OpKind::Add); // linear activation adds no node
  CHECK(findParam(g, "h1.W")->loc.line == 7);

  // train block
  const TrainConfig &t = g.train;
  CHECK(t.present);
  CHECK(t.dataKind == "csv");
  CHECK(t.dataPath == "examples/iris/data/iris.csv");
  REQUIRE(t.dataArgs.count("label"));
  CHECK(*t.dataArgs.at("label").string == "species");
  CHECK(t.optimizer == "adam");
  REQUIRE(t.optimizerArgs.count("lr"));
  CHECK(*t.optimizerArgs.at("lr").number == Approx(0.01));
  CHECK(t.batch == 8);
  CHECK(t.epochs == 150);
  CHECK(t.testSplit == Approx(0.25));
  CHECK(t.validationSplit == 0.0);
  CHECK_FALSE(t.validateOnTest);
  CHECK(t.seed == 42);
  CHECK(t.scale);
}

TEST_CASE("validation_data test validates on the test set", "[dsl][iris]") {
  std::string src = kIris;
  src.replace(src.find("  validation_split 0.0\n"), 23, "  validation_data test\n");
  auto r = buildSource(src, "", "examples/iris/iris.nn");
  INFO(r.output);
  REQUIRE(r.graph);
  CHECK(r.graph->train.validateOnTest);
  CHECK(r.graph->train.validationSplit == 0.0);
  CHECK(r.graph->train.testSplit == Approx(0.25));
}

TEST_CASE("the Iris example file builds from disk", "[dsl][iris]") {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/iris/iris.nn";
  std::ifstream probe(path);
  if (!probe)
    return; // the example is written elsewhere; nothing to check yet
  std::ostringstream os;
  DiagnosticEngine diag(os);
  auto g = buildGraph(path, FrontendOptions{NNC_STDLIB_DIR}, diag);
  INFO(os.str());
  CHECK(g);
}
