// Every diagnostic of the front end: its message and its line:col.
#include "DslTestUtil.h"

using namespace nnc::dsl;
using namespace nnc::dsl::test;

namespace {

// A model around `body` (lines start at 4: the header is 3 lines).
std::string model(const std::string &body) {
  return "import std.layers\n"
         "model M {\n"
         "  input  x: float[4]\n" +
         body +
         "  loss mse(x, x)\n"
         "}\n";
}

struct Case {
  const char *name;
  std::string source;
  std::string expected; // "line:col: message" of the first error (prefix match)
};

void checkCase(const Case &c) {
  auto r = buildSource(c.source);
  INFO(c.name);
  INFO(r.output);
  CHECK_FALSE(r.graph);
  REQUIRE(r.errors >= 1);
  std::string first = firstError(r);
  CHECK(first.substr(0, c.expected.size()) == c.expected);
  // the printed form: file:line:col: error: ..., the line, a caret
  std::string where = c.expected.substr(0, c.expected.find(": "));
  CHECK(r.output.find(where == "0:0" ? "test.nn: error: " : "test.nn:" + where + ": error: ") == 0);
}

} // namespace

TEST_CASE("syntax errors", "[dsl][diag]") {
  std::vector<Case> cases = {
      {"missing ')'", model("  h = Dense(8, relu)(x\n"), "4:23: expected ')' after arguments"},
      {"missing ')' mid-line", model("  h = Dense(8 relu)(x)\n"),
       "4:15: expected ')' after arguments"},
      {"missing ':'", "model M {\n  input x float[4]\n}\n",
       "2:11: expected ':' and a type after 'input x'"},
      {"bad type", "model M {\n  input x: double[4]\n}\n",
       "2:12: expected a type 'float' or 'int'"},
      {"missing '='", model("  h Dense(8)(x)\n"), "4:5: expected '=' after 'h'"},
      {"missing expression", model("  h =\n"), "4:6: expected an expression after 'h ='"},
      {"two statements", model("  h = x y = x\n"),
       "4:9: expected end of line after the statement, found 'y'"},
      {"top level junk", "foo bar\nmodel M {\n  input x: float[1]\n  loss mse(x, x)\n}\n",
       "1:1: expected 'import', 'layer', 'cell', 'model' or 'train', found 'foo'"},
      {"unclosed model", "model M {\n  input x: float[4]\n  loss mse(x, x)\n",
       "3:17: expected '}' at the end of model 'M'"},
      {"missing ']'", "model M {\n  input x: float[4\n  loss mse(x, x)\n}\n",
       "2:19: expected ',' or ']' after a dimension"},
      {"expected expression", model("  h = * x\n"), "4:7: expected an expression, found '*'"},
      {"layer without call",
       "layer L(units N) {\n  param W[N]\n}\nmodel M {\n  input x: float[1]\n  loss mse(x, x)\n}\n",
       "1:7: layer 'L' has no 'call(x[...]) -> y { ... }' block"},
      {"signature without ->",
       "layer L {\n  call(x[n]) {\n    y = x\n  }\n}\nmodel M {\n  input x: float[1]\n  loss "
       "mse(x, x)\n}\n",
       "2:14: expected '->' and the name of the result"},
      {"bad layer item",
       "layer L {\n  y = 3\n  call(x[n]) -> y {\n    y = x\n  }\n}\nmodel M {\n  input x: "
       "float[1]\n  loss mse(x, x)\n}\n",
       "2:3: expected 'param' or 'call(...)' in the body of layer 'L', found 'y'"},
      {"positional after named", model("  h = Dense(units = 8, relu)(x)\n"),
       "4:24: positional argument after a named argument"},
      {"duplicate named", model("  h = Dense(units = 8, units = 4)(x)\n"),
       "4:24: argument 'units' of Dense is given twice"},
      {"too deep", model("  h = " + std::string(300, '(') + "x" + std::string(300, ')') + "\n"),
       "4:263: expression is nested too deeply (more than 256 levels)"},
      {"long chain",
       model("  h = x" +
             [] {
               std::string s;
               for (int i = 0; i < 400; ++i)
                 s += " + x";
               return s;
             }() +
             "\n"),
       "4:7: expression is too deeply nested"},
      {"bare expression", model("  relu(x)\n"),
       "4:3: expected a statement such as 'name = relu(...)'"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("lexical errors", "[dsl][diag]") {
  std::vector<Case> cases = {
      {"invalid character", model("  h = x $ x\n"), "4:9: invalid character '$'"},
      {"control character", model("  h = x\x01\n"), "4:8: invalid character 0x01"},
      {"non-ASCII", model("  h = x \xc3\xa9\n"), "4:9: invalid character '\xc3\xa9' (U+00E9)"},
      {"invalid UTF-8", model("  h = x \xff\n"), "4:9: invalid byte 0xFF"},
      {"unterminated string",
       "model M {\n  input x: float[4]\n  loss mse(x, x)\n}\ntrain M {\n  data "
       "csv(\"iris.csv)\n}\n",
       "6:12: unterminated string: expected '\"' before the end of the line"},
      {"unknown escape",
       "model M {\n  input x: float[4]\n  loss mse(x, x)\n}\ntrain M {\n  data "
       "csv(\"a\\qb.csv\")\n}\n",
       "6:14: unknown escape sequence '\\q' in string"},
      {"integer too large", model("  h = x * 99999999999999999999\n"),
       "4:11: integer '99999999999999999999' is out of range"},
      {"float too large", model("  h = x * 1e999\n"), "4:11: number '1e999' is out of range"},
      {"bad number", model("  h = x * 12abc\n"), "4:11: invalid number '12abc'"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("name and call errors", "[dsl][diag]") {
  std::vector<Case> cases = {
      {"unknown name", model("  h1 = Dense(8)(x)\n  h2 = Dense(8)(h3)\n"),
       "5:17: unknown name 'h3' (did you mean 'h1'?)"},
      {"unknown layer", model("  h = Dence(3)(x)\n"),
       "4:7: unknown layer or function 'Dence' (did you mean 'Dense'?)"},
      {"unknown function", model("  h = frobnicate(x)\n"),
       "4:7: unknown layer or function 'frobnicate'"},
      {"missing import", "model M {\n  input x: float[4]\n  h = Dense(3)(x)\n  loss mse(h, h)\n}\n",
       "3:7: unknown layer or function 'Dense' (did you forget an import"},
      {"too many arguments", model("  h = Dense(3, relu, 4)(x)\n"),
       "4:22: Dense expects at most 2 arguments, got 3"},
      {"unknown named argument", model("  h = Dense(3, activaton = relu)(x)\n"),
       "4:16: Dense has no parameter named 'activaton'; its parameters are units, activation (did "
       "you mean 'activation'?)"},
      {"given twice", model("  h = Dense(3, units = 4)(x)\n"),
       "4:16: argument 'units' of Dense is given twice"},
      {"missing argument", model("  h = Dense()(x)\n"), "4:7: missing argument 'units' of Dense"},
      {"missing argument, named given", model("  h = Dense(activation = relu)(x)\n"),
       "4:7: missing argument 'units' of Dense"},
      {"too many inputs", model("  h = Dense(3)(x, x)\n"), "4:19: Dense takes 1 input, got 2"},
      {"no input", model("  h = Dense(3)()\n"), "4:7: Dense takes 1 input, got 0"},
      {"layer not applied", model("  h = Dense(3)\n"),
       "4:7: layer 'Dense' must be applied to an input, as in 'Dense(...)(x)'"},
      {"layer as value", model("  h = x + Dense\n"),
       "4:11: layer 'Dense' cannot be used as a value"},
      {"layer as activation", model("  h = Dense(3, Dense)(x)\n"),
       "4:16: layer 'Dense' cannot be used as a value"},
      {"tensor as layer argument", model("  h = Dense(x)(x)\n"),
       "4:13: argument 'units' of Dense must be a number or a function"},
      {"builtin arity", model("  h = relu(x, x)\n"), "4:15: relu expects 1 argument, got 2"},
      {"loss arity", model("  h = mse(x)\n"), "4:7: mse expects 2 arguments, got 1"},
      {"named builtin argument", model("  h = relu(value = x)\n"),
       "4:12: relu does not take named arguments"},
      {"function as tensor", model("  h = x + relu\n"),
       "4:11: operator '+' cannot be applied to 'relu': it is the function 'relu'"},
      {"not a function", model("  k = 3\n  h = k(x)\n"),
       "5:7: 'k' is not a function: it is the integer 3"},
      {"rank mismatch for layer", model("  h = Dense(3)(mse(x, x))\n"),
       "4:16: Dense expects an input x[..., in] with at least 1 dimension, but 'mse(x, x)' has "
       "shape []"},
      {"rank mismatch for user layer",
       "layer L {\n  call(x[n]) -> y {\n    y = x\n  }\n}\nmodel M {\n  input x: float[2, 4]\n  h "
       "= L()(x)\n  loss mse(h, h)\n}\n",
       "8:11: L expects an input x[n] with 1 dimension, but 'x' has shape [2, 4]"},
      {"ellipsis not first", "layer L {\n  call(x[n, ...]) -> y {\n    y = x\n  }\n}\n" + model(""),
       "2:13: '...' is only allowed as the first dimension of a call signature"},
      {"ellipsis in a param", model("  param W[..., 3]\n"),
       "4:11: '...' is only allowed as the first dimension of a call signature"},
      {"layer instance reused", model("  h = Dense(3)(x)\n  h = Dense(3)(x)\n"),
       "5:7: layer instance name 'h' is already used"},
      {"defined twice", model("  param W[2]\n  param W[3]\n"), "5:9: 'W' is already defined"},
      {"input defined twice", model("  input x: float[3]\n"), "4:9: 'x' is already defined"},
      {"method", model("  h = Dense(3).sequence(x)\n"),
       "4:7: layer 'Dense' has no method 'sequence'"},
      {"initializer as value", model("  h = zeros\n"), "4:7: 'zeros' is an initializer"},
      {"output in layer",
       "layer L {\n  call(x[n]) -> y {\n    output y = x\n  }\n}\nmodel M {\n  input x: float[1]\n "
       " h = L()(x)\n  loss mse(h, x)\n}\n",
       "3:5: 'output' is only allowed in a model"},
      {"result never assigned",
       "layer L {\n  call(x[n]) -> y {\n    z = x\n  }\n}\nmodel M {\n  input x: float[1]\n  h = "
       "L()(x)\n  loss mse(h, x)\n}\n",
       "2:17: the call block of layer 'L' never assigns its result 'y'"},
      {"recursive layer",
       "layer L {\n  call(x[n]) -> y {\n    y = L()(x)\n  }\n}\nmodel M {\n  input x: float[1]\n  "
       "h = L()(x)\n  loss mse(h, x)\n}\n",
       "3:9: layers are nested more than 32 deep; is layer 'L' recursive?"},
      {"duplicate layer", "layer Dense {\n  call(x[n]) -> y {\n    y = x\n  }\n}\n" + model(""),
       "1:7: layer 'Dense' is already defined"},
      {"builtin as layer name",
       "layer relu {\n  call(x[n]) -> y {\n    y = x\n  }\n}\n" + model(""),
       "1:7: 'relu' is a built-in function and cannot be a layer name"},
      {"signature dimension mismatch",
       "layer L(units N) {\n  call(x[N]) -> y {\n    y = x\n  }\n}\nmodel M {\n  input x: "
       "float[4]\n  h = L(3)(x)\n  loss mse(h, x)\n}\n",
       "8:12: L expects an input x[N] with N = 3, but 'x' has shape [4]"},
      {"model parameter without default",
       "model M(vocab V) {\n  input x: float[V]\n  loss mse(x, x)\n}\n",
       "1:15: model parameter 'V' needs a default value"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("shape and type errors", "[dsl][diag]") {
  std::vector<Case> cases = {
      {"matmul inner dims", model("  param W[5, 8] = glorot_uniform\n  h = x @ W\n"),
       "5:7: shape mismatch in 'x @ W': [4] @ [5, 8] (inner dimensions 4 and 5 differ)"},
      {"matmul rank", model("  param W[4]\n  h = x @ W\n"),
       "5:7: shape mismatch in 'x @ W': [4] @ [4] (the right operand must have 2 dimensions, it "
       "has 1)"},
      {"matmul batched rhs", model("  param W[4]\n  h = W @ x\n"),
       "5:7: shape mismatch in 'W @ x': [4] @ [4] (the right operand must be an unbatched 2-D "
       "value"},
      {"matmul scalar lhs", model("  param W[1, 4]\n  h = mse(x, x) @ W\n"),
       "5:7: shape mismatch in 'mse(x, x) @ W': [] @ [1, 4] (the left operand must have at least 1 "
       "dimension)"},
      {"matmul with number", model("  h = x @ 2\n"),
       "4:11: operator '@' needs tensors, but '2' is the integer 2"},
      {"broadcast", model("  param b[5]\n  h = x + b\n"),
       "5:7: shape mismatch in 'x + b': [4] + [5] (dimensions 4 and 5 differ)"},
      {"broadcast ranks", model("  param b[3, 5]\n  h = x * b\n"),
       "5:7: shape mismatch in 'x * b': [4] * [3, 5] (dimensions 4 and 5 differ)"},
      {"int arithmetic",
       "model M {\n  input x: float[4]\n  target y: int\n  h = x + y\n  loss mse(x, x)\n}\n",
       "4:11: operator '+' needs float operands, but 'y' is an int tensor"},
      {"int activation",
       "model M {\n  input x: float[4]\n  target y: int\n  h = relu(y)\n  loss mse(x, x)\n}\n",
       "4:12: relu needs a float tensor, but 'y' is an int tensor"},
      {"softmax of scalar", model("  h = softmax(mse(x, x))\n"),
       "4:15: softmax works over the last dimension, but 'mse(x, x)' is a scalar"},
      {"cross_entropy float labels",
       "model M {\n  input x: float[4]\n  target y: float\n  loss cross_entropy(x, y)\n}\n",
       "4:25: cross_entropy expects integer class labels as its second argument, but 'y' is a "
       "float tensor; declare the target as 'target y: int'"},
      {"cross_entropy label shape",
       "model M {\n  input x: float[4]\n  target y: int[2]\n  loss cross_entropy(x, y)\n}\n",
       "4:25: cross_entropy: the labels 'y' have shape [2], but logits of shape [4] need labels of "
       "shape []"},
      {"cross_entropy int logits",
       "model M {\n  input x: int[4]\n  target y: int\n  loss cross_entropy(x, y)\n}\n",
       "4:22: cross_entropy expects float logits as its first argument, but 'x' is an int tensor"},
      {"mse shapes", "model M {\n  input x: float[4]\n  target t: float[3]\n  loss mse(x, t)\n}\n",
       "4:8: mse expects two tensors of the same shape, but 'x' is [4] and 't' is [3]"},
      {"mse int", "model M {\n  input x: float[4]\n  target t: int[4]\n  loss mse(x, t)\n}\n",
       "4:15: mse expects float tensors, but 't' is an int tensor"},
      {"loss not scalar", "model M {\n  input x: float[4]\n  loss relu(x)\n}\n",
       "3:8: the loss must be a scalar, but 'relu(x)' has shape [4] per example"},
      {"two losses", model("  loss mse(x, x)\n"), "5:3: the model already has a loss"},
      {"zero dimension", "model M {\n  input x: float[0]\n  loss mse(x, x)\n}\n",
       "2:18: a dimension must be a positive integer, but '0' is 0"},
      {"float dimension", "model M {\n  input x: float[2.5]\n  loss mse(x, x)\n}\n",
       "2:18: a dimension must be a positive integer, but '2.5' is the number 2.5"},
      {"huge dimension", "model M {\n  input x: float[4000000000]\n  loss mse(x, x)\n}\n",
       "2:18: dimension 4000000000 is too large"},
      {"huge parameter", model("  param W[2000000000, 2000000000]\n"), "4:9: 'W' is too large"},
      {"integer overflow", model("  param W[9000000000000000000 * 2]\n"),
       "4:11: integer overflow in '9000000000000000000 * 2'"},
      {"division by zero", model("  param W[4 / 0]\n"), "4:11: division by zero in '4 / 0'"},
      {"bad dimension in std layer", model("  h = Dense(0)(x)\n"),
       "4:7: a dimension must be a positive integer, but 'N' is 0 (in Dense layer 'h')"},
      {"unknown initializer", model("  param W[4, 4] = glorot_normal\n"),
       "4:19: unknown initializer 'glorot_normal'; expected glorot_uniform"},
      {"initializer without value", model("  param W[4, 4] = uniform\n"),
       "4:19: initializer 'uniform' needs a value"},
      {"output not a tensor", model("  output k = 3\n"),
       "4:10: output 'k' must be a tensor, but it is the integer 3"},
      {"output twice", model("  output x\n  output x\n"), "5:10: output 'x' is declared twice"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("model-level errors", "[dsl][diag]") {
  std::vector<Case> cases = {
      {"no input", "model Iris {\n  p = 3\n}\n",
       "1:7: model 'Iris' has no input: add a line such as 'input x: float[4]'"},
      {"no loss", "import std.layers\nmodel Iris {\n  input x: float[4]\n  h = Dense(3)(x)\n}\n",
       "2:7: model 'Iris' has no loss: add a line such as 'loss cross_entropy(logits, y)'"},
      {"no model", "import std.layers\n", "0:0: the file defines no model"},
      {"several models",
       "model A {\n  input x: float[1]\n  loss mse(x, x)\n}\nmodel B {\n  input x: float[1]\n  "
       "loss mse(x, x)\n}\n",
       "5:7: the file defines several models (A, B); choose one by name"},
      {"duplicate model",
       "model A {\n  input x: float[1]\n  loss mse(x, x)\n}\nmodel A {\n  input x: float[1]\n  "
       "loss mse(x, x)\n}\n",
       "5:7: model 'A' is already defined"},
      {"missing import", "import std.foo\n" + model(""),
       "1:1: cannot import 'std.foo': file not found"},
      {"missing relative import", "import lib.mine\n" + model(""),
       "1:1: cannot import 'lib.mine': file not found"},
  };
  for (const Case &c : cases)
    checkCase(c);

  auto r = buildSource(model(""), "Other");
  CHECK_FALSE(r.graph);
  CHECK(firstError(r) == "0:0: no model named 'Other' (the file defines: M)");
}

TEST_CASE("train block errors", "[dsl][diag]") {
  auto train = [](const std::string &body) { return model("") + "train M {\n" + body + "}\n"; };
  // the model takes lines 1-5, `train M {` is line 6, the body starts at 7
  std::vector<Case> cases = {
      {"unknown setting", train("  epoch 3\n"),
       "7:3: unknown train setting 'epoch'; expected one of data, optimizer, batch, epochs, "
       "test_split, validation_split, validation_data, seed, scale, sample_every, sample_length, "
       "clip_norm, schedule, monitor, early_stopping (did you mean 'epochs'?)"},
      {"bad optimizer", train("  optimizer rmsprob(lr = 0.1)\n"),
       "7:13: unknown optimizer 'rmsprob'; expected sgd, adam, rmsprop, nesterov or adamw (did you "
       "mean 'rmsprop'?)"},
      {"beta out of range", train("  optimizer adam(beta2 = 1)\n"),
       "7:26: argument 'beta2' of adam must be in [0, 1), got 1"},
      {"negative weight decay", train("  optimizer adamw(weight_decay = -0.5)\n"),
       "7:34: argument 'weight_decay' of adamw must be non-negative, got -0.5"},
      {"bad optimizer argument", train("  optimizer sgd(lr = 0.1, beta1 = 0.9)\n"),
       "7:27: sgd has no argument 'beta1'; its arguments are lr, momentum"},
      {"too many optimizer arguments", train("  optimizer sgd(0.1, 0.9, 3)\n"),
       "7:27: sgd expects at most 2 arguments, got 3"},
      {"negative lr", train("  optimizer adam(lr = -1)\n"),
       "7:23: argument 'lr' of adam must be positive, got -1"},
      {"batch zero", train("  batch 0\n"), "7:9: batch must be a positive integer, got 0"},
      {"batch float", train("  batch 2.5\n"), "7:9: batch must be a positive integer, got 2.5"},
      {"epochs negative", train("  epochs -3\n"),
       "7:10: epochs must be a positive integer, got -3"},
      {"split too big", train("  test_split 1.5\n"), "7:14: test_split must be in [0, 1), got 1.5"},
      {"split one", train("  validation_split 1\n"),
       "7:20: validation_split must be in [0, 1), got 1"},
      {"split name", train("  test_split half\n"), "7:14: test_split must be a number, got 'half'"},
      {"validation_data value", train("  validation_data 0.1\n"),
       "7:19: validation_data must be 'test' (the test set, checked after every epoch as Keras's "
       "validation_data), got '0.1'"},
      {"validation_data without a test set", train("  validation_data test\n"),
       "7:3: validation_data test needs a test set: set test_split, or give babi data a test file "
       "(babi(\"train\", test = \"test\"))"},
      {"validation_data and split",
       train("  test_split 0.2\n  validation_data test\n  validation_split 0.1\n"),
       "8:3: validation_data test and validation_split both choose the validation rows: remove one "
       "of them"},
      {"seed negative", train("  seed -1\n"), "7:8: seed must be a non-negative integer, got -1"},
      {"scale", train("  scale zscore\n"),
       "7:9: unknown scaling 'zscore'; expected 'minmax' or 'none'"},
      {"data kind", train("  data parquet(\"a\")\n"),
       "7:8: unknown data source 'parquet'; expected csv(...), text(...) or babi(...)"},
      {"data without path", train("  data csv(label = \"y\")\n"),
       "7:8: csv(...) needs the path of the data file"},
      {"data path not a string", train("  data csv(iris)\n"),
       "7:12: expected the data file path as a string"},
      {"setting twice", train("  batch 2\n  batch 4\n"),
       "8:3: train setting 'batch' is given twice"},
      {"missing value", train("  batch\n"), "7:8: expected a value after 'batch'"},
      {"unknown model", model("") + "train Iris {\n  batch 2\n}\n",
       "6:7: train block for unknown model 'Iris'"},
      {"two train blocks", train("  batch 2\n") + "train M {\n  batch 3\n}\n",
       "9:1: model 'M' has more than one train block"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("all errors of a file are reported, without cascades", "[dsl][diag]") {
  std::string src = "import std.layers\n"                // 1
                    "\n"                                 // 2
                    "model Iris {\n"                     // 3
                    "  input  x: float[4]\n"             // 4
                    "  target y: int\n"                  // 5
                    "  h1 = Dense(8, relu)(x\n"          // 6  syntax error
                    "  h2 = Dense(8, relu)(h1)\n"        // 7  fine: h1 is known (but invalid)
                    "  h3 = Dense(8)(h9)\n"              // 8  unknown name
                    "  param W[5, 8]\n"                  // 9
                    "  z = x @ W\n"                      // 10 shape mismatch
                    "  q = z + h3\n"                     // 11 no follow-on error
                    "  logits = Dence(3)(h2)\n"          // 12 unknown layer
                    "  output probs = softmax(logits)\n" // 13 no follow-on error
                    "  t = 3 $ 4\n"                      // 14 invalid character
                    "}\n";                               // no loss
  auto r = buildSource(src);
  INFO(r.output);
  CHECK_FALSE(r.graph);
  std::vector<std::string> errors;
  for (const Diagnostic &d : r.diags)
    if (d.severity == Severity::Error)
      errors.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col));
  CHECK(errors == std::vector<std::string>{"6:24", "14:9", "8:17", "10:7", "12:12", "3:7"});
  CHECK(r.errors == 6);
}

TEST_CASE("diagnostics print the source line and a caret", "[dsl][diag]") {
  auto r = buildSource("model M {\n\tinput x: float[4]\n\th = x @ y\n\tloss mse(x, x)\n}\n");
  CHECK(r.output == "test.nn:3:10: error: unknown name 'y'\n"
                    "\th = x @ y\n"
                    "\t        ^\n");
  // an error in a std library layer points at the user's call, with a note
  auto r2 = buildSource(model("  h = Dense(-2)(x)\n"));
  CHECK(r2.output.find("test.nn:4:7: error: a dimension must be a positive integer") == 0);
  CHECK(r2.output.find("layers.nn:") != std::string::npos);
  CHECK(r2.output.find(": note: in the body of layer 'Dense'") != std::string::npos);
  // UTF-8 before the caret counts as one column
  auto r3 = buildSource(
      "# \xc3\xa9t\xc3\xa9\nmodel M {\n  input x: float[4]\n  loss mse(x, x) # \xc3\xa9 $\n}\n");
  CHECK(r3.output.find("  loss mse(x, x) # \xc3\xa9 $\n") ==
        std::string::npos); // '$' is in a comment: no error
  auto r4 =
      buildSource("model M {\n  input x: float[4]\n  l = \"\xc3\xa9\" $\n  loss mse(x, x)\n}\n");
  CHECK(r4.output.find("  l = \"\xc3\xa9\" $\n          ^\n") != std::string::npos);
}

TEST_CASE("the diagnostic engine", "[dsl][diag]") {
  std::ostringstream os;
  DiagnosticEngine diag(os);
  diag.addSource("a.nn", "one\ntwo\n");
  diag.error(Loc{"a.nn", 2, 2}, "bad");
  diag.error(Loc{"a.nn", 2, 2}, "bad"); // the same error twice is reported once
  diag.note(Loc{"a.nn", 1, 1}, "because");
  diag.warning(Loc{"b.nn", 1, 1}, "unknown file: no source line");
  diag.error(Loc{"a.nn", 9, 1}, "past the end");
  CHECK(diag.errorCount() == 2);
  CHECK(diag.warningCount() == 1);
  CHECK(os.str() == "a.nn:2:2: error: bad\ntwo\n ^\n"
                    "b.nn:1:1: warning: unknown file: no source line\n"
                    "a.nn:9:1: error: past the end\n");
  CHECK(diag.str() == os.str());

  DiagnosticEngine quiet;
  quiet.setErrorLimit(3);
  for (int i = 0; i < 10; ++i)
    quiet.error(Loc{"x", i + 1, 1}, "e");
  CHECK(quiet.errorCount() == 10);
  CHECK(quiet.diagnostics().size() == 3);
}
