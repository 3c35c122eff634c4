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

}  // namespace

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
  nnrt_dataset_free(&ds);  // freeing twice is harmless
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
  REQUIRE(load_text(dir, "x, label ,y\r\n1,\"b, with comma\",2\r\n\r\n3, a ,4\r\n5,\"say \"\"hi\"\"\",6\r\n\r\n\n",
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

TEST_CASE("csv: integer labels sort as numbers", "[runtime]") {
  TempDir dir;
  nnrt_dataset ds{};
  nnrt_error err{};
  REQUIRE(load_text(dir, "f,c\n1,10\n2,9\n3,2\n4,10\n", &ds, &err) == 0);
  REQUIRE(ds.num_classes == 3);
  CHECK(std::string(ds.class_names[0]) == "2");
  CHECK(std::string(ds.class_names[1]) == "9");
  CHECK(std::string(ds.class_names[2]) == "10");
  const int32_t *y = static_cast<const int32_t *>(ds.fields[1].data);
  CHECK(std::vector<int32_t>(y, y + 4) == std::vector<int32_t>{2, 1, 0, 2});
  nnrt_dataset_free(&ds);
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
  SECTION("header only") { CHECK(load_error(dir, header) == p + ": no data rows after the header"); }
  SECTION("unknown label column") {
    CHECK(load_error(dir, "a,b\n1,x\n", "kind") == p + ":1: no column 'kind' in the header (columns: a, b)");
  }
  SECTION("only one column") {
    CHECK(load_error(dir, "a\nx\n") ==
          p + ":1: need at least one feature column and a label column, found 1 column");
  }
  SECTION("wrong number of columns") {
    CHECK(load_error(dir, header + "5.1,3.5,1.4,0.2,setosa\n5.1,3.5,1.4,setosa\n") ==
          p + ":3: expected 5 columns, found 4");
    CHECK(load_error(dir, header + "5.1,3.5,1.4,0.2,setosa,extra\n") == p + ":2: expected 5 columns, found 6");
  }
  SECTION("line numbers count blank lines") {
    CHECK(load_error(dir, header + "\n5.1,3.5,1.4,0.2,setosa\n\n5.1,3.5\n") == p + ":5: expected 5 columns, found 2");
  }
  SECTION("not a number") {
    CHECK(load_error(dir, header + "5.1,3.5,1.4,0.2,setosa\n5.1,abc,1.4,0.2,setosa\n") ==
          p + ":3:2: 'abc' is not a number (column 'sepal_width')");
    CHECK(load_error(dir, header + "5.1,,1.4,0.2,setosa\n") == p + ":2:2: '' is not a number (column 'sepal_width')");
    CHECK(load_error(dir, header + "5.1,2,1.4,1e999,setosa\n") ==
          p + ":2:4: '1e999' is not a number (column 'petal_width')");
    CHECK(load_error(dir, header + "nan,2,1.4,1,setosa\n") == p + ":2:1: 'nan' is not a number (column 'sepal_length')");
    CHECK(load_error(dir, header + "1.5x,2,1.4,1,setosa\n") ==
          p + ":2:1: '1.5x' is not a number (column 'sepal_length')");
  }
  SECTION("empty label") { CHECK(load_error(dir, "a,b\n1,\n") == p + ":2:2: empty label (column 'b')"); }
  SECTION("unterminated quote") { CHECK(load_error(dir, "a,b\n1,\"x\n") == p + ":2:2: unterminated quoted field"); }
  SECTION("binary junk") {
    CHECK(load_error(dir, std::string("a,b\n1,\0x\n", 9)) == p + ": not a text file (it contains NUL bytes)");
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
    CHECK(std::string(err.msg) == "<stdin>:3:2: 'x' is not a number (column 'b')");

    write_file(dir.file("in.csv"), "1,2\n3\n");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == dir.file("in.csv") + ":2: expected 2 columns, found 1");

    write_file(dir.file("in.csv"), "a,b\n");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == dir.file("in.csv") + ": no data rows");

    write_file(dir.file("in.csv"), "");
    CHECK(nnrt_csv_load_features(dir.file("in.csv").c_str(), nullptr, nullptr, &ds, &err) != 0);
    CHECK(std::string(err.msg) == dir.file("in.csv") + ": no rows");
  }
  nnrt_dataset_free(&ds);
}
