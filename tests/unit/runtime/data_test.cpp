// nnrt PRNG, dataset splitting, min-max scaling, JSON helpers and metrics.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <cmath>
#include <cstring>
#include <set>

using namespace rt_test;

namespace {

// n rows; feature 0 is the row id, feature 1 is id * 10; label = id % 3.
void make_ids(nnrt_dataset *ds, int64_t n) {
  int32_t dtypes[2] = {NNRT_F32, NNRT_I32};
  int64_t sizes[2] = {2, 1};
  nnrt_error err{};
  REQUIRE(nnrt_dataset_alloc(ds, n, 2, dtypes, sizes, &err) == 0);
  float *x = static_cast<float *>(ds->fields[0].data);
  int32_t *y = static_cast<int32_t *>(ds->fields[1].data);
  for (int64_t i = 0; i < n; i++) {
    x[2 * i] = float(i);
    x[2 * i + 1] = float(i) * 10;
    y[i] = int32_t(i % 3);
  }
  const char *names[3] = {"a", "b", "c"};
  REQUIRE(nnrt_dataset_set_class_names(ds, names, 3, &err) == 0);
  ds->label_name = strdup("kind");
}

std::vector<int> ids(const nnrt_dataset &ds) {
  std::vector<int> out;
  const float *x = static_cast<const float *>(ds.fields[0].data);
  const int32_t *y = static_cast<const int32_t *>(ds.fields[1].data);
  for (int64_t i = 0; i < ds.n; i++) {
    int id = int(x[2 * i]);
    REQUIRE(x[2 * i + 1] == float(id) * 10); // rows are copied whole
    REQUIRE(y[i] == id % 3);
    out.push_back(id);
  }
  return out;
}

} // namespace

TEST_CASE("rng: fixed streams, ranges, shuffles", "[runtime]") {
  nnrt_rng r;
  // Pinned values of xoshiro256** seeded through splitmix64: a change here
  // changes every shuffle and split.
  nnrt_rng_seed(&r, 42);
  CHECK(nnrt_rng_next_u64(&r) == 0x15780b2e0c2ec716ULL);
  CHECK(nnrt_rng_next_u64(&r) == 0x6104d9866d113a7eULL);
  CHECK(nnrt_rng_next_u64(&r) == 0xae17533239e499a1ULL);
  nnrt_rng_seed(&r, 0);
  CHECK(nnrt_rng_next_u64(&r) == 0x99ec5f36cb75f2b4ULL);

  nnrt_rng_seed(&r, 7);
  double sum = 0;
  for (int i = 0; i < 10000; i++) {
    double u = nnrt_rng_uniform(&r);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(sum / 10000 == Approx(0.5).margin(0.02));
  int hist[5] = {0};
  for (int i = 0; i < 5000; i++) {
    uint64_t k = nnrt_rng_below(&r, 5);
    REQUIRE(k < 5);
    hist[k]++;
  }
  for (int k = 0; k < 5; k++)
    CHECK(hist[k] > 800);

  std::vector<int64_t> a(20);
  for (int i = 0; i < 20; i++)
    a[i] = i;
  nnrt_rng_shuffle(&r, a.data(), 20);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 20; i++)
    CHECK(sorted[i] == i);
  CHECK(a != sorted);
  CHECK(nnrt_now_seconds() > 0);
}

TEST_CASE("split: sizes, determinism, disjointness", "[runtime]") {
  nnrt_dataset ds{}, tr{}, te{}, tr2{}, te2{}, tr3{}, te3{};
  nnrt_error err{};
  make_ids(&ds, 150);
  REQUIRE(nnrt_split(&ds, 0.2, 42, &tr, &te, &err) == 0);
  CHECK(te.n == 30);
  CHECK(tr.n == 120);
  std::vector<int> a = ids(tr), b = ids(te);
  std::set<int> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(all.size() == 150); // disjoint and complete
  CHECK(*all.begin() == 0);
  CHECK(*all.rbegin() == 149);
  // Shuffled, not the first or last rows of the file.
  std::vector<int> first30(30);
  for (int i = 0; i < 30; i++)
    first30[i] = i;
  CHECK(b != first30);
  REQUIRE(te.num_classes == 3);
  CHECK(std::string(te.class_names[2]) == "c");
  CHECK(std::string(tr.label_name) == "kind");

  REQUIRE(nnrt_split(&ds, 0.2, 42, &tr2, &te2, &err) == 0);
  CHECK(ids(tr2) == a);
  CHECK(ids(te2) == b);
  REQUIRE(nnrt_split(&ds, 0.2, 43, &tr3, &te3, &err) == 0);
  CHECK(ids(te3) != b);

  nnrt_dataset_free(&tr);
  nnrt_dataset_free(&te);
  // round(n * fraction): 10 * 0.25 = 2.5 rounds to 3.
  nnrt_dataset small{};
  make_ids(&small, 10);
  REQUIRE(nnrt_split(&small, 0.25, 1, &tr, &te, &err) == 0);
  CHECK(te.n == 3);
  CHECK(tr.n == 7);
  nnrt_dataset_free(&tr);
  nnrt_dataset_free(&te);
  REQUIRE(nnrt_split(&small, 0.0, 1, &tr, &te, &err) == 0);
  CHECK(te.n == 0);
  CHECK(tr.n == 10);
  nnrt_dataset_free(&tr);
  nnrt_dataset_free(&te);
  CHECK(nnrt_split(&small, 1.5, 1, &tr, &te, &err) != 0);
  CHECK(std::string(err.msg) == "test fraction 1.5 is not between 0 and 1");
  CHECK(nnrt_split(&small, std::nan(""), 1, &tr, &te, &err) != 0);

  for (nnrt_dataset *d : {&ds, &tr2, &te2, &tr3, &te3, &small})
    nnrt_dataset_free(d);
}

TEST_CASE("scaler: min-max on training rows, applied anywhere", "[runtime]") {
  int32_t dt = NNRT_F32;
  int64_t size = 3;
  nnrt_dataset tr{}, te{};
  nnrt_error err{};
  REQUIRE(nnrt_dataset_alloc(&tr, 3, 1, &dt, &size, &err) == 0);
  REQUIRE(nnrt_dataset_alloc(&te, 1, 1, &dt, &size, &err) == 0);
  float rows[9] = {1, 10, 5, 3, 20, 5, 2, 30, 5}; // third feature is constant
  std::memcpy(tr.fields[0].data, rows, sizeof rows);
  float test_row[3] = {4, 0, 7};
  std::memcpy(te.fields[0].data, test_row, sizeof test_row);

  nnrt_scaler s{};
  REQUIRE(nnrt_scaler_fit(&s, &tr, 0, &err) == 0);
  REQUIRE(s.size == 3);
  CHECK(s.min[0] == 1);
  CHECK(s.max[0] == 3);
  CHECK(s.min[1] == 10);
  CHECK(s.max[1] == 30);
  CHECK(s.min[2] == 5);
  CHECK(s.max[2] == 5);
  REQUIRE(nnrt_scaler_apply(&s, &tr, 0, &err) == 0);
  const float *x = static_cast<const float *>(tr.fields[0].data);
  std::vector<float> want = {0, 0, 0, 1, 0.5f, 0, 0.5f, 1, 0};
  CHECK(std::vector<float>(x, x + 9) == want);
  REQUIRE(nnrt_scaler_apply(&s, &te, 0, &err) == 0);
  x = static_cast<const float *>(te.fields[0].data);
  CHECK(x[0] == 1.5f);  // (4 - 1) / 2: test rows may leave [0, 1]
  CHECK(x[1] == -0.5f); // (0 - 10) / 20
  CHECK(x[2] == 2.0f);  // constant feature: shifted only

  // Restored from saved lists, it scales the same.
  nnrt_scaler s2{};
  REQUIRE(nnrt_scaler_set(&s2, s.min, s.max, 3, &err) == 0);
  std::memcpy(te.fields[0].data, test_row, sizeof test_row);
  REQUIRE(nnrt_scaler_apply(&s2, &te, 0, &err) == 0);
  CHECK(x[0] == 1.5f);

  int64_t four = 4;
  nnrt_dataset other{};
  REQUIRE(nnrt_dataset_alloc(&other, 1, 1, &dt, &four, &err) == 0);
  CHECK(nnrt_scaler_apply(&s, &other, 0, &err) != 0);
  CHECK(std::string(err.msg) == "scaler was fitted on 3 features, the data has 4");

  nnrt_scaler_free(&s);
  nnrt_scaler_free(&s2);
  for (nnrt_dataset *d : {&tr, &te, &other})
    nnrt_dataset_free(d);
}

TEST_CASE("scaler: ranges past the float range scale to finite values", "[runtime]") {
  // -3e38 and 3e38 are floats, their difference is not: the scaled values
  // used to be NaN (found by fuzz_csv).
  int32_t dt = NNRT_F32;
  int64_t size = 1;
  nnrt_dataset tr{}, te{};
  nnrt_error err{};
  REQUIRE(nnrt_dataset_alloc(&tr, 3, 1, &dt, &size, &err) == 0);
  float rows[3] = {-3e38f, 0, 3e38f};
  std::memcpy(tr.fields[0].data, rows, sizeof rows);
  nnrt_scaler s{};
  REQUIRE(nnrt_scaler_fit(&s, &tr, 0, &err) == 0);
  REQUIRE(nnrt_scaler_apply(&s, &tr, 0, &err) == 0);
  const float *x = static_cast<const float *>(tr.fields[0].data);
  CHECK(x[0] == 0.0f);
  CHECK(x[1] == 0.5f);
  CHECK(x[2] == 1.0f);
  // A value the scaled result of which is past the float range is an error.
  float lo = 0, hi = 1e-30f;
  nnrt_scaler tiny{};
  REQUIRE(nnrt_scaler_set(&tiny, &lo, &hi, 1, &err) == 0);
  REQUIRE(nnrt_dataset_alloc(&te, 1, 1, &dt, &size, &err) == 0);
  static_cast<float *>(te.fields[0].data)[0] = 1e30f;
  CHECK(nnrt_scaler_apply(&tiny, &te, 0, &err) != 0);
  CHECK(std::string(err.msg) == "row 1, feature 1: 1e+30 is too far outside the range the scaler "
                                "was fitted on (min 0, max 1e-30) "
                                "to scale");
  nnrt_scaler_free(&s);
  nnrt_scaler_free(&tiny);
  nnrt_dataset_free(&tr);
  nnrt_dataset_free(&te);
}

TEST_CASE("json helpers round-trip lists", "[runtime]") {
  nnrt_error err{};
  float v[5] = {0.1f, -2.5f, 1e-30f, 3.4028235e38f, 4.3f};
  char *s = nnrt_json_encode_floats(v, 5);
  REQUIRE(s);
  CHECK(std::string(s) == "[0.1,-2.5,1e-30,3.4028235e+38,4.3]");
  float *back = nullptr;
  int64_t n = 0;
  REQUIRE(nnrt_json_decode_floats(s, &back, &n, &err) == 0);
  REQUIRE(n == 5);
  CHECK(std::memcmp(back, v, sizeof v) == 0);
  free(back);
  free(s);

  const char *names[3] = {"setosa", "with \"quotes\" and \\", "line\nbreak\t\x01"};
  s = nnrt_json_encode_strings(names, 3);
  REQUIRE(s);
  CHECK(std::string(s) ==
        "[\"setosa\",\"with \\\"quotes\\\" and \\\\\",\"line\\nbreak\\t\\u0001\"]");
  char **out = nullptr;
  int k = 0;
  REQUIRE(nnrt_json_decode_strings(s, &out, &k, &err) == 0);
  REQUIRE(k == 3);
  for (int i = 0; i < 3; i++)
    CHECK(std::string(out[i]) == names[i]);
  nnrt_free_strings(out, k);
  free(s);

  REQUIRE(nnrt_json_decode_strings("[\"\\u00e9\\ud83d\\ude00\"]", &out, &k, &err) == 0);
  CHECK(std::string(out[0]) == "\xc3\xa9\xf0\x9f\x98\x80");
  nnrt_free_strings(out, k);

  CHECK(nnrt_json_decode_floats("[1, \"x\"]", &back, &n, &err) != 0);
  CHECK(std::string(err.msg) == "expected a list of numbers, item 1 is not a number");
  CHECK(nnrt_json_decode_floats("[1, 2", &back, &n, &err) != 0);
  CHECK(std::string(err.msg) == "invalid JSON at byte 5: unexpected end");
  CHECK(nnrt_json_decode_strings("{}", &out, &k, &err) != 0);
  std::string deep(100000, '[');
  CHECK(nnrt_json_decode_floats(deep.c_str(), &back, &n, &err) != 0);
  CHECK(std::string(err.msg).find("nested too deeply") != std::string::npos);
}

TEST_CASE("metrics json is written atomically", "[runtime]") {
  TempDir dir;
  nnrt_error err{};
  const char *keys[6] = {"epochs", "loss", "accuracy", "test_loss", "train_seconds", "missing"};
  double values[6] = {150, double(0.05f), 0.9666666666666667, 0.125, 1.5, std::nan("")};
  std::string path = dir.file("metrics.json");
  REQUIRE(nnrt_write_metrics_json(path.c_str(), "Iris", 6, keys, values, &err) == 0);
  CHECK(read_file(path) ==
        "{\"model\": \"Iris\", \"epochs\": 150, \"loss\": 0.05, \"accuracy\": 0.9666666666666667, "
        "\"test_loss\": 0.125, \"train_seconds\": 1.5, \"missing\": null}\n");
  CHECK(dir.entries() == std::vector<std::string>{"metrics.json"});
  std::string bad = dir.file("no/such/dir/metrics.json");
  CHECK(nnrt_write_metrics_json(bad.c_str(), "Iris", 0, keys, values, &err) != 0);
  CHECK(std::string(err.msg) == "cannot write '" + bad + "': No such file or directory");
}
