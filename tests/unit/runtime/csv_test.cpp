// nnrt CSV loading: training files (features + string labels) and
// prediction input (features only), and every error with its position.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <cstring>

using namespace rt_test;

namespace {

// Loads text as a training CSV; returns the status, error in err.
int load_text(const TempDir &dir, const std::string &text, nnrt_dataset *ds, nnrt_error *err,
              const char *label = nullptr, const std::string &name = "data.csv") {
  write_file(dir.file(name), text);
  return nnrt_csv_load(dir.file(name).c_str(), label, ds, err);
}

std::string load_error(const TempDir &dir, const std::string &text, const char *label = nullptr) {
  nnrt_dataset ds{};
  nnrt_error err{};
  int rc = load_text(dir, text, &ds, &err, label);
  nnrt_dataset_free(&ds);
  return rc ? std::string(err.msg) : std::string("(no error)");
}

} // namespace

TEST_CASE("csv: a small training file", "[runtime]") {
  TempDir dir;
  nnrt_dataset ds{};
  nnrt_error err{};
  REQUIRE(load_text(dir, "a,b,kind\n1,2,cat\n3.5,-4e1,ant\n0,0,cat\n7,8,bee\n", &ds, &err) == 0);
  CHECK(ds.n == 4);
  REQUIRE(ds.num_fields == 2);
  CHECK(ds.fields[0].dtype == NNRT_F32);
  CHECK(ds.fields[0].size == 2);
  CHECK(ds.fields[1].dtype == NNRT_I32);
  CHECK(ds.fields[1].size == 1);
  const float *x = static_cast<const float *>(ds.fields[0].data);
  const int32_t *y = static_cast<const int32_t *>(ds.fields[1].data);
  std::vector<float> want_x = {1, 2, 3.5f, -40, 0, 0, 7, 8};
  CHECK(std::vector<float>(x, x + 8) == want_x);
  // Sorted like LabelEncoder: ant=0, bee=1, cat=2.
  REQUIRE(ds.num_classes == 3);
  CHECK(std::string(ds.class_names[0]) == "ant");
  CHECK(std::string(ds.class_names[1]) == "bee");
  CHECK(std::string(ds.class_names[2]) == "cat");
  CHECK(std::vector<int32_t>(y, y + 4) == std::vector<int32_t>{2, 0, 2, 1});
  REQUIRE(ds.num_features == 2);
  CHECK(std::string(ds.feature_names[0]) == "a");
  CHECK(std::string(ds.feature_names[1]) == "b");
  nnrt_dataset_free(&ds);
  nnrt_dataset_free(&ds); // freeing twice is harmless
}

TEST_CASE("csv: the iris file", "[runtime]") {
  nnrt_dataset ds{};
  nnrt_error err{};
  std::string path = NNC_SOURCE_DIR "/examples/iris/data/iris.csv";
  REQUIRE(nnrt_csv_load(path.c_str(), nullptr, &ds, &err) == 0);
  CHECK(ds.n == 150);
  CHECK(ds.fields[0].size == 4);
  REQUIRE(ds.num_classes == 3);
  CHECK(std::string(ds.class_names[0]) == "setosa");
  CHECK(std::string(ds.class_names[1]) == "versicolor");
  CHECK(std::string(ds.class_names[2]) == "virginica");
  const float *x = static_cast<const float *>(ds.fields[0].data);
  const int32_t *y = static_cast<const int32_t *>(ds.fields[1].data);
  CHECK(x[0] == 5.1f);
  CHECK(x[1] == 3.5f);
  CHECK(x[2] == 1.4f);
  CHECK(x[3] == 0.2f);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 150; i++) {
    REQUIRE(y[i] >= 0);
    REQUIRE(y[i] < 3);
    counts[y[i]]++;
  }
  CHECK(counts[0] == 50);
  CHECK(counts[1] == 50);
  CHECK(counts[2] == 50);
  CHECK(y[0] == 0);
  CHECK(y[50] == 1);
  CHECK(y[149] == 2);
  CHECK(std::string(ds.feature_names[3]) == "petal_width");
  REQUIRE(ds.label_name);
  CHECK(std::string(ds.label_name) == "species");
  nnrt_dataset_free(&ds);
}

TEST_CASE("csv: label column by name, CRLF, blank lines, quotes", "[runtime]") {
  TempDir dir;
  nnrt_dataset ds{};
  nnrt_error err{};
  REQUIRE(
      load_text(
          dir,
          "x, label ,y\r\n1,\"b, with comma\",2\r\n\r\n3, a ,4\r\n5,\"say \"\"hi\"\"\",6\r\n\r\n\n",
          &ds, &err, "label") == 0);
  CHECK(ds.n == 3);
  CHECK(ds.fields[0].size == 2);
  const float *x = static_cast<const float *>(ds.fields[0].data);
  CHECK(std::vector<float>(x, x + 6) == std::vector<float>{1, 2, 3, 4, 5, 6});
  REQUIRE(ds.num_classes == 3);
  CHECK(std::string(ds.class_names[0]) == "a");
  CHECK(std::string(ds.class_names[1]) == "b, with comma");
  CHECK(std::string(ds.class_names[2]) == "say \"hi\"");
  CHECK(std::string(ds.feature_names[0]) == "x");
  CHECK(std::string(ds.feature_names[1]) == "y");
  CHECK(std::string(ds.label_name) == "label");
  nnrt_dataset_free(&ds);
}

TEST_CASE("csv: integer labels are the class ids themselves", "[runtime]") {
  TempDir dir;
  nnrt_dataset ds{};
  nnrt_error err{};
  // {0, 2} stays {0, 2}: renumbering by rank would train another problem
  // than PyTorch's cross_entropy on the same labels.
  REQUIRE(load_text(dir, "f,c\n1,0\n2,2\n3,2\n4,0\n", &ds, &err) == 0);
  CHECK(ds.num_classes == 0);
  const int32_t *y = static_cast<const int32_t *>(ds.fields[1].data);
  CHECK(std::vector<int32_t>(y, y + 4) == std::vector<int32_t>{0, 2, 2, 0});
  nnrt_dataset_free(&ds);
  REQUIRE(load_text(dir, "f,c\n1,10\n2,+9\n3,007\n", &ds, &err) == 0);
  y = static_cast<const int32_t *>(ds.fields[1].data);
  CHECK(std::vector<int32_t>(y, y + 3) == std::vector<int32_t>{10, 9, 7});
  nnrt_dataset_free(&ds);
}

// Loads text with a class count; returns the error or "(no error)".
static std::string load_classes_error(const TempDir &dir, const std::string &text,
                                      int64_t num_classes) {
  write_file(dir.file("data.csv"), text);
  nnrt_csv_options opt{};
  opt.num_classes = num_classes;
  nnrt_dataset ds{};
  nnrt_error err{};
  int rc = nnrt_csv_load_opts(dir.file("data.csv").c_str(), &opt, &ds, &err);
  nnrt_dataset_free(&ds);
  return rc ? std::string(err.msg) : std::string("(no error)");
}

TEST_CASE("csv: labels are checked against the model's class count", "[runtime]") {
  TempDir dir;
  std::string p = dir.file("data.csv");
  CHECK(load_classes_error(dir, "f,c\n1,0\n2,2\n", 3) == "(no error)");
  CHECK(load_classes_error(dir, "f,c\n1,0\n2,2\n3,1\n", 2) ==
        p + ":3:2: label 2 (column 'c') is out of range: the model has 2 classes, so integer "
            "labels must be 0..1");
  CHECK(
      load_classes_error(dir, "f,c\n1,0\n2,-1\n", 2) ==
      p + ":3:2: label -1 (column 'c') is not a class id: integer labels are class ids 0, 1, ...");
  // Fewer classes than the model's are fine (e.g. a class missing from a sample).
  CHECK(load_classes_error(dir, "f,c\n1,ant\n2,bee\n", 3) == "(no error)");
  // Sorted: ant=0, bee=1, cat=2, so the first row past 2 classes is line 4's cat.
  CHECK(load_classes_error(dir, "f,c\n1,bee\n2,ant\n3,cat\n4,ant\n", 2) ==
        p + ":4:2: column 'c' has 3 distinct labels but the model has 2 classes: 'cat' here is "
            "class 2 "
            "(labels sorted: ant, bee, cat)");
}

TEST_CASE("csv: errors name the file, line and column", "[runtime]") {
  TempDir dir;
  std::string p = dir.file("data.csv");
  const std::string header = "sepal_length,sepal_width,petal_length,petal_width,species\n";

  SECTION("missing file") {
    nnrt_dataset ds{};
    nnrt_error err{};
    std::string missing = dir.file("nope.csv");
    CHECK(nnrt_csv_load(missing.c_str(), nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == "cannot open '" + missing + "': No such file or directory");
  }
  SECTION("empty file") {
    CHECK(load_error(dir, "") == p + ": file is empty");
    CHECK(load_error(dir, "\n\n  \n") == p + ": file is empty");
  }
  SECTION("header only") {
    CHECK(load_error(dir, header) == p + ": no data rows after the header");
  }
  SECTION("unknown label column") {
    CHECK(load_error(dir, "a,b\n1,x\n", "kind") ==
          p + ":1: no column 'kind' in the header (columns: a, b)");
  }
  SECTION("only one column") {
    CHECK(load_error(dir, "a\nx\n") ==
          p + ":1: need at least one feature column and a label column, found 1 column");
  }
  SECTION("wrong number of columns") {
    CHECK(load_error(dir, header + "5.1,3.5,1.4,0.2,setosa\n5.1,3.5,1.4,setosa\n") ==
          p + ":3: expected 5 columns, found 4");
    CHECK(load_error(dir, header + "5.1,3.5,1.4,0.2,setosa,extra\n") ==
          p + ":2: expected 5 columns, found 6");
  }
  SECTION("line numbers count blank lines") {
    CHECK(load_error(dir, header + "\n5.1,3.5,1.4,0.2,setosa\n\n5.1,3.5\n") ==
          p + ":5: expected 5 columns, found 2");
  }
  SECTION("not a number") {
    const std::string want = "expected a decimal number like 5, -0.25 or 1e-3";
    CHECK(load_error(dir, header + "5.1,3.5,1.4,0.2,setosa\n5.1,abc,1.4,0.2,setosa\n") ==
          p + ":3:2: 'abc' is not a number (column 'sepal_width'): " + want);
    CHECK(load_error(dir, header + "5.1,,1.4,0.2,setosa\n") ==
          p + ":2:2: '' is not a number (column 'sepal_width'): the field is empty; " + want);
    CHECK(load_error(dir, header + "5.1,2,1.4,1e999,setosa\n") ==
          p +
              ":2:4: '1e999' is not a number (column 'petal_width'): it is out of the float32 "
              "range; " +
              want);
    CHECK(load_error(dir, header + "1.5x,2,1.4,1,setosa\n") ==
          p + ":2:1: '1.5x' is not a number (column 'sepal_length'): " + want);
  }
  SECTION("hex, infinity and NaN are refused, decimal exponents are not") {
    const std::string want = "expected a decimal number like 5, -0.25 or 1e-3";
    const std::string hex = "hexadecimal numbers are not read; " + want;
    const std::string inf = "infinity and NaN are not accepted; " + want;
    CHECK(load_error(dir, header + "0x10,2,1.4,1,setosa\n") ==
          p + ":2:1: '0x10' is not a number (column 'sepal_length'): " + hex);
    CHECK(load_error(dir, header + "1,-0X1p3,1.4,1,setosa\n") ==
          p + ":2:2: '-0X1p3' is not a number (column 'sepal_width'): " + hex);
    CHECK(load_error(dir, header + "nan,2,1.4,1,setosa\n") ==
          p + ":2:1: 'nan' is not a number (column 'sepal_length'): " + inf);
    CHECK(load_error(dir, header + "1,2,-Infinity,1,setosa\n") ==
          p + ":2:3: '-Infinity' is not a number (column 'petal_length'): " + inf);
    CHECK(load_error(dir, header + "1,2,1.4,INF,setosa\n") ==
          p + ":2:4: 'INF' is not a number (column 'petal_width'): " + inf);
    CHECK(load_error(dir, header + "1e5,.5,5.,-1.5E-3,setosa\n") == "(no error)");
    CHECK(load_error(dir, header + "1e,2,1,1,setosa\n") ==
          p + ":2:1: '1e' is not a number (column 'sepal_length'): " + want);
    CHECK(load_error(dir, header + "1,.,1,1,setosa\n") ==
          p + ":2:2: '.' is not a number (column 'sepal_width'): " + want);
  }
  SECTION("empty label") {
    CHECK(load_error(dir, "a,b\n1,\n") == p + ":2:2: empty label (column 'b')");
  }
  SECTION("unterminated quote") {
    CHECK(load_error(dir, "a,b\n1,\"x\n") == p + ":2:2: unterminated quoted field");
  }
  SECTION("binary junk") {
    CHECK(load_error(dir, std::string("a,b\n1,\0x\n", 9)) ==
          p + ": not a text file (it contains NUL bytes)");
  }
}

TEST_CASE("csv: features for prediction", "[runtime]") {
  TempDir dir;
  nnrt_dataset ds{};
  nnrt_error err{};

  SECTION("header with the label column, which is ignored") {
    write_file(dir.file("in.csv"), "a,b,species\n1,2,setosa\n3,4,virginica\n");
    REQUIRE(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, "species", &ds, &err) == 0);
    CHECK(ds.n == 2);
    REQUIRE(ds.num_fields == 1);
    CHECK(ds.fields[0].size == 2);
    const float *x = static_cast<const float *>(ds.fields[0].data);
    CHECK(std::vector<float>(x, x + 4) == std::vector<float>{1, 2, 3, 4});
    REQUIRE(ds.num_features == 2);
    CHECK(std::string(ds.feature_names[1]) == "b");
  }
  SECTION("no header") {
    write_file(dir.file("in.csv"), "1,2,3\r\n4,5,6\r\n");
    REQUIRE(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, "species", &ds, &err) == 0);
    CHECK(ds.n == 2);
    CHECK(ds.fields[0].size == 3);
    CHECK(ds.num_features == 0);
    const float *x = static_cast<const float *>(ds.fields[0].data);
    CHECK(x[5] == 6.0f);
  }
  SECTION("from a stream") {
    FILE *f = tmpfile();
    REQUIRE(f);
    fputs("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n", f);
    rewind(f);
    REQUIRE(nnrt_csv_load_features("<stdin>", f, nullptr, &ds, &err) == 0);
    fclose(f);
    CHECK(ds.n == 2);
    CHECK(ds.fields[0].size == 4);
    CHECK(static_cast<const float *>(ds.fields[0].data)[4] == 6.7f);
  }
  SECTION("errors") {
    FILE *f = tmpfile();
    REQUIRE(f);
    fputs("a,b\n1,2\n3,x\n", f);
    rewind(f);
    CHECK(nnrt_csv_load_features("<stdin>", f, nullptr, &ds, &err) != 0);
    fclose(f);
    CHECK(std::string(err.msg) == "<stdin>:3:2: 'x' is not a number (column 'b'): expected a "
                                  "decimal number like 5, -0.25 or 1e-3");

    write_file(dir.file("in.csv"), "1,2\n3\n");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == dir.file("in.csv") + ":2: expected 2 columns, found 1");

    write_file(dir.file("in.csv"), "a,b\n");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == dir.file("in.csv") + ": no data rows");

    write_file(dir.file("in.csv"), "");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == dir.file("in.csv") + ": no rows");

    write_file(dir.file("in.csv"), "0x10,2\n");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) ==
          dir.file("in.csv") +
              ":1:1: '0x10' is not a number: hexadecimal numbers are not read; expected a "
              "decimal number like 5, -0.25 or 1e-3");
  }
  SECTION("a row with its label, for a model of 2 features") {
    // Read as a header, it would leave "no data rows".
    write_file(dir.file("in.csv"), "1,2,setosa\n");
    CHECK(nnrt_csv_load_inputs(dir.file("in.csv").c_str(), nullptr, "species", 2, &ds, &err) != 0);
    CHECK(std::string(err.msg) ==
          dir.file("in.csv") +
              ":1: the row has 3 columns, one more than the model's 2 features: it may "
              "include its label ('setosa' in column 3); expected the features only");
    write_file(dir.file("in.csv"), "1,2,0\n3,4,1\n");
    CHECK(nnrt_csv_load_inputs(dir.file("in.csv").c_str(), nullptr, "species", 2, &ds, &err) != 0);
    CHECK(std::string(err.msg) ==
          dir.file("in.csv") +
              ":1: the rows have 3 columns, one more than the model's 2 features: they may "
              "include the label; expected the features only, or a header that names the "
              "label column 'species'");
    // A header that names the label column is read as before.
    write_file(dir.file("in.csv"), "1,2,species\n3,4,setosa\n");
    REQUIRE(nnrt_csv_load_inputs(dir.file("in.csv").c_str(), nullptr, "species", 2, &ds, &err) ==
            0);
    CHECK(ds.n == 1);
    CHECK(ds.fields[0].size == 2);
  }
  nnrt_dataset_free(&ds);
}

TEST_CASE("csv: prediction input skips the training file's target columns", "[runtime]") {
  TempDir dir;
  nnrt_dataset ds{};
  nnrt_error err{};
  const char *targets[] = {"t1", "t2"};
  const char *features[] = {"a", "b"};
  nnrt_csv_input_options o{};
  o.skip_columns = targets;
  o.num_skip = 2;
  o.num_features = 2;
  o.feature_names = features;
  o.num_feature_names = 2;
  std::string in = dir.file("in.csv");

  SECTION("the training file, by name, wherever the targets are") {
    write_file(in, "t2,a,t1,b\n9,1,8,2\n7,3,6,4\n");
    REQUIRE(nnrt_csv_load_inputs_opts(in.c_str(), nullptr, &o, &ds, &err) == 0);
    REQUIRE(ds.fields[0].size == 2);
    const float *x = static_cast<const float *>(ds.fields[0].data);
    CHECK(std::vector<float>(x, x + 4) == std::vector<float>{1, 2, 3, 4});
    REQUIRE(ds.num_features == 2);
    CHECK(std::string(ds.feature_names[0]) == "a");
    CHECK(std::string(ds.feature_names[1]) == "b");
  }
  SECTION("features only, with or without a header") {
    write_file(in, "a,b\n1,2\n");
    REQUIRE(nnrt_csv_load_inputs_opts(in.c_str(), nullptr, &o, &ds, &err) == 0);
    CHECK(ds.n == 1);
    nnrt_dataset_free(&ds);
    write_file(in, "1,2\n3,4\n");
    REQUIRE(nnrt_csv_load_inputs_opts(in.c_str(), nullptr, &o, &ds, &err) == 0);
    CHECK(ds.n == 2);
  }
  SECTION("some of the targets, or another width") {
    write_file(in, "a,t1,b\n1,2,3\n");
    CHECK(nnrt_csv_load_inputs_opts(in.c_str(), nullptr, &o, &ds, &err) != 0);
    CHECK(std::string(err.msg) ==
          in + ":1: the header has the target column 't1' but not 't2'; expected all of "
               "the target columns 't1', 't2' (they are skipped) or none of them");
    write_file(in, "1,2,3,4\n");
    CHECK(nnrt_csv_load_inputs_opts(in.c_str(), nullptr, &o, &ds, &err) != 0);
    CHECK(std::string(err.msg) ==
          in + ":1: the rows have 4 columns, 2 more than the model's 2 features: they may "
               "include the 2 targets; expected the features only, or a header that names "
               "the target columns 't1', 't2'");
    write_file(in, "\na,b,c\n1,2,3\n");
    CHECK(nnrt_csv_load_inputs_opts(in.c_str(), nullptr, &o, &ds, &err) != 0);
    CHECK(std::string(err.msg) ==
          in + ":2: the header has 3 columns (a, b, c); expected the model's 2 features "
               "(a, b), with or without the target columns 't1', 't2' (skipped)");
  }
  nnrt_dataset_free(&ds);
}

TEST_CASE("csv: float targets for regression", "[runtime]") {
  TempDir dir;
  write_file(dir.file("data.csv"), "a,t1,b,t2\n1,0.5,2,-1\n3,1e-3,4,2\n");
  nnrt_dataset ds{};
  nnrt_error err{};
  nnrt_csv_options opt{};
  const char *targets[] = {"t2", "t1"}; // the given order, not the file's
  opt.targets = targets;
  opt.num_targets = 2;
  REQUIRE(nnrt_csv_load_opts(dir.file("data.csv").c_str(), &opt, &ds, &err) == 0);
  REQUIRE(ds.num_fields == 2);
  CHECK(ds.fields[0].size == 2);
  CHECK(ds.fields[1].dtype == NNRT_F32);
  CHECK(ds.fields[1].size == 2);
  const float *x = static_cast<const float *>(ds.fields[0].data);
  const float *y = static_cast<const float *>(ds.fields[1].data);
  CHECK(std::vector<float>(x, x + 4) == std::vector<float>{1, 2, 3, 4});
  CHECK(std::vector<float>(y, y + 4) == std::vector<float>{-1, 0.5f, 2, 1e-3f});
  CHECK(ds.num_classes == 0);
  CHECK(ds.label_name == nullptr); // two targets: none to skip by name
  REQUIRE(ds.num_features == 2);
  CHECK(std::string(ds.feature_names[1]) == "b");
  nnrt_dataset_free(&ds);

  // The label column as one float target.
  nnrt_csv_options one{};
  one.label_column = "t1";
  one.label_is_target = 1;
  REQUIRE(nnrt_csv_load_opts(dir.file("data.csv").c_str(), &one, &ds, &err) == 0);
  CHECK(ds.fields[0].size == 3);
  CHECK(ds.fields[1].dtype == NNRT_F32);
  CHECK(static_cast<const float *>(ds.fields[1].data)[0] == 0.5f);
  CHECK(std::string(ds.label_name) == "t1");
  nnrt_dataset_free(&ds);

  const char *twice[] = {"t1", "t1"};
  opt.targets = twice;
  CHECK(nnrt_csv_load_opts(dir.file("data.csv").c_str(), &opt, &ds, &err) != 0);
  CHECK(std::string(err.msg) ==
        dir.file("data.csv") + ":1: column 't1' is named twice as a target");
}
