// nnrt safetensors checkpoints: exact round trip, the file layout, atomic
// writes, and clear errors (never a crash) for wrong or damaged files.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <cmath>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

using namespace rt_test;

namespace {

nnrt_tensor_info tensor(const char *name, int role, int dtype, std::vector<int64_t> shape,
                        int64_t offset = 0) {
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
  t.offset = offset;
  return t;
}

// An Iris-shaped model table: 4 -> 8 -> 3, Adam state. Only the table is
// needed for checkpoints.
struct Model {
  std::vector<nnrt_tensor_info> tensors;
  nnrt_model m{};
  Model(const char *name, int64_t hidden = 8, const char *first = "h1.W") {
    tensors = {
        tensor(first, NNRT_PARAM, NNRT_F32, {4, hidden}, 0),
        tensor("h1.b", NNRT_PARAM, NNRT_F32, {hidden}, 4 * hidden),
        tensor("out.W", NNRT_PARAM, NNRT_F32, {hidden, 3}, 5 * hidden),
        tensor("out.b", NNRT_PARAM, NNRT_F32, {3}, 8 * hidden),
        tensor("x", NNRT_INPUT, NNRT_F32, {4}),
        tensor("y", NNRT_TARGET, NNRT_I32, {}),
        tensor("probs", NNRT_OUTPUT, NNRT_F32, {3}),
    };
    m.abi_version = NNRT_ABI_VERSION;
    m.optimizer = NNRT_OPT_ADAM;
    m.loss = NNRT_LOSS_CROSS_ENTROPY;
    m.num_tensors = int32_t(tensors.size());
    m.name = name;
    m.batch = 8;
    m.num_params = 8 * hidden + 3;
    m.opt_state_size = 2 * m.num_params;
    m.tensors = tensors.data();
  }
};

std::vector<float> pattern(int64_t n, float scale) {
  std::vector<float> v(n);
  nnrt_rng r;
  nnrt_rng_seed(&r, uint64_t(scale * 1000));
  for (int64_t i = 0; i < n; i++)
    v[i] = float(nnrt_rng_uniform(&r) * 2 - 1) * scale;
  return v;
}

uint64_t header_len(const std::string &bytes) {
  uint64_t n = 0;
  for (int i = 0; i < 8; i++)
    n |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  return n;
}

std::string save_error(const std::string &path, const nnrt_model *m, const float *p) {
  nnrt_error err{};
  return nnrt_checkpoint_save(path.c_str(), m, p, nullptr, nullptr, &err) ? std::string(err.msg)
                                                                          : "(no error)";
}

std::string load_error(const std::string &path, const nnrt_model *m) {
  std::vector<float> p(m->num_params, 7.0f);
  nnrt_error err{};
  int rc = nnrt_checkpoint_load(path.c_str(), m, p.data(), nullptr, nullptr, nullptr, &err);
  for (float v : p)
    REQUIRE(v == 7.0f); // untouched on error
  return rc ? std::string(err.msg) : std::string("(no error)");
}

} // namespace

TEST_CASE("checkpoint: round trip is byte-exact, with metadata and optimizer state", "[runtime]") {
  TempDir dir;
  Model model("Iris");
  const nnrt_model *m = &model.m;
  std::vector<float> params = pattern(m->num_params, 3.0f), opt = pattern(m->opt_state_size, 0.5f);
  params[1] = -0.0f;
  params[2] = 1e-45f; // denormal (a NaN is written exactly too, but refused at load: see below)

  nnrt_metadata md{};
  const char *classes[3] = {"setosa", "versicolor", "virginica"};
  char *classes_json = nnrt_json_encode_strings(classes, 3);
  REQUIRE(nnrt_metadata_set(&md, "nnc.classes", classes_json) == 0);
  REQUIRE(nnrt_metadata_set(&md, "nnc.step", "150") == 0);
  REQUIRE(nnrt_metadata_set(&md, "odd \"key\"", "line\nbreak \\ \xc3\xa9") == 0);
  REQUIRE(nnrt_metadata_set(&md, "nnc.step", "151") == 0);      // replaces
  REQUIRE(nnrt_metadata_set(&md, "nnc.model", "ignored") == 0); // the model's own name wins
  free(classes_json);

  nnrt_error err{};
  std::string path = dir.file("iris.safetensors");
  REQUIRE(nnrt_checkpoint_save(path.c_str(), m, params.data(), opt.data(), &md, &err) == 0);
  CHECK(dir.entries() == std::vector<std::string>{"iris.safetensors"}); // no temp file left

  std::vector<float> p2(m->num_params, 0.0f), o2(m->opt_state_size, 9.0f);
  nnrt_metadata got{};
  int restored = -1;
  REQUIRE(nnrt_checkpoint_load(path.c_str(), m, p2.data(), o2.data(), &restored, &got, &err) == 0);
  CHECK(std::memcmp(p2.data(), params.data(), params.size() * 4) == 0);
  CHECK(std::memcmp(o2.data(), opt.data(), opt.size() * 4) == 0);
  CHECK(restored == 1);
  CHECK(std::string(nnrt_metadata_get(&got, "nnc.model")) == "Iris");
  CHECK(std::string(nnrt_metadata_get(&got, "nnc.step")) == "151");
  CHECK(std::string(nnrt_metadata_get(&got, "odd \"key\"")) == "line\nbreak \\ \xc3\xa9");
  CHECK(nnrt_metadata_get(&got, "nope") == nullptr);
  char **names = nullptr;
  int k = 0;
  REQUIRE(nnrt_json_decode_strings(nnrt_metadata_get(&got, "nnc.classes"), &names, &k, &err) == 0);
  REQUIRE(k == 3);
  CHECK(std::string(names[1]) == "versicolor");
  nnrt_free_strings(names, k);

  // Without optimizer state in the file, the caller's state is zeroed.
  REQUIRE(nnrt_checkpoint_save(path.c_str(), m, params.data(), nullptr, nullptr, &err) == 0);
  REQUIRE(nnrt_checkpoint_load(path.c_str(), m, p2.data(), o2.data(), &restored, &got, &err) == 0);
  CHECK(restored == 0);
  for (float v : o2)
    REQUIRE(v == 0.0f);
  CHECK(std::string(nnrt_metadata_get(&got, "nnc.model")) == "Iris");
  CHECK(nnrt_metadata_get(&got, "nnc.step") == nullptr); // old metadata replaced
  nnrt_metadata_free(&md);
  nnrt_metadata_free(&got);
}

TEST_CASE("checkpoint: file layout follows the safetensors format", "[runtime]") {
  TempDir dir;
  Model model("Iris");
  const nnrt_model *m = &model.m;
  std::vector<float> params = pattern(m->num_params, 1.0f);
  nnrt_error err{};
  std::string path = dir.file("a.safetensors");
  REQUIRE(nnrt_checkpoint_save(path.c_str(), m, params.data(), nullptr, nullptr, &err) == 0);
  std::string bytes = read_file(path);
  uint64_t n = header_len(bytes);
  CHECK(n % 8 == 0); // data starts 8-byte aligned
  REQUIRE(bytes.size() == 8 + n + 4 * size_t(m->num_params));
  std::string header = bytes.substr(8, n);
  std::string json = "{\"__metadata__\":{\"nnc.model\":\"Iris\"},"
                     "\"h1.W\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[0,128]},"
                     "\"h1.b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[128,160]},"
                     "\"out.W\":{\"dtype\":\"F32\",\"shape\":[8,3],\"data_offsets\":[160,256]},"
                     "\"out.b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[256,268]}}";
  REQUIRE(n >= json.size());
  CHECK(n - json.size() < 8); // padded with at most 7 spaces
  CHECK(header == json + std::string(n - json.size(), ' '));
  // Data: the parameters in table order, little-endian F32.
  CHECK(std::memcmp(bytes.data() + 8 + n, params.data(), params.size() * 4) == 0);

  // With optimizer state: one more tensor at the end.
  std::vector<float> opt = pattern(m->opt_state_size, 2.0f);
  REQUIRE(nnrt_checkpoint_save(path.c_str(), m, params.data(), opt.data(), nullptr, &err) == 0);
  bytes = read_file(path);
  n = header_len(bytes);
  CHECK(n % 8 == 0);
  CHECK(bytes.substr(8, n).find("\"__optimizer_state__\":{\"dtype\":\"F32\",\"shape\":[134],"
                                "\"data_offsets\":[268,804]}") != std::string::npos);
  CHECK(bytes.size() == 8 + n + 804);
  CHECK(std::memcmp(bytes.data() + 8 + n + 268, opt.data(), opt.size() * 4) == 0);
}

TEST_CASE("checkpoint: writes are atomic", "[runtime]") {
  TempDir dir;
  Model model("Iris");
  const nnrt_model *m = &model.m;
  std::vector<float> params = pattern(m->num_params, 1.0f), other = pattern(m->num_params, 2.0f);
  std::string path = dir.file("model.safetensors");
  REQUIRE(save_error(path, m, params.data()) == "(no error)");
  std::string before = read_file(path);

  SECTION("into a directory that does not exist") {
    std::string bad = dir.file("missing/model.safetensors");
    CHECK(save_error(bad, m, params.data()) ==
          "cannot write '" + bad + "': No such file or directory");
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
  }
  SECTION("an existing checkpoint is untouched when the temp file cannot be made") {
    // Block the temp name with a directory: the write fails before rename.
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    fs::create_directory(tmp);
    CHECK(save_error(path, m, other.data()).rfind("cannot write '" + path + "'", 0) == 0);
    CHECK(read_file(path) == before);
    fs::remove(tmp);
  }
  SECTION("a failed rename leaves no temp file") {
    std::string target = dir.file("taken");
    fs::create_directory(target);
    write_file(target + "/keep", "x");
    CHECK(save_error(target, m, other.data()).rfind("cannot write '" + target + "'", 0) == 0);
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors", "taken"});
    CHECK(read_file(path) == before);
  }
  SECTION("overwriting replaces the whole file") {
    REQUIRE(save_error(path, m, other.data()) == "(no error)");
    std::vector<float> back(m->num_params);
    nnrt_error err{};
    REQUIRE(nnrt_checkpoint_load(path.c_str(), m, back.data(), nullptr, nullptr, nullptr, &err) ==
            0);
    CHECK(back == other);
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
  }
}

TEST_CASE("checkpoint: a checkpoint of another model is refused clearly", "[runtime]") {
  TempDir dir;
  Model iris("Iris"), other("Other"), wide("Iris", 9), renamed("Iris", 8, "h1.V");
  std::vector<float> p = pattern(iris.m.num_params, 1.0f), pw = pattern(wide.m.num_params, 1.0f);
  std::string path = dir.file("x.safetensors");

  REQUIRE(save_error(path, &other.m, p.data()) == "(no error)");
  CHECK(load_error(path, &iris.m) == "checkpoint '" + path + "' is for model 'Other', not 'Iris'");

  REQUIRE(save_error(path, &wide.m, pw.data()) == "(no error)");
  CHECK(load_error(path, &iris.m) ==
        "checkpoint '" + path +
            "': 'h1.W' has shape [4, 9] in the checkpoint, the model expects [4, 8]");

  REQUIRE(save_error(path, &renamed.m, p.data()) == "(no error)");
  CHECK(load_error(path, &iris.m) ==
        "checkpoint '" + path + "' has a tensor 'h1.V' that model 'Iris' does not have");

  // A file without h1.W (and without the extra tensor): hand-written.
  std::string header = "{\"h1.b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}";
  std::string bytes(8, '\0');
  bytes[0] = char(header.size());
  write_file(path, bytes + header + std::string(32, '\0'));
  CHECK(load_error(path, &iris.m) == "checkpoint '" + path + "' has no tensor 'h1.W'");

  // Right shape, wrong dtype.
  header = "{\"h1.W\":{\"dtype\":\"F16\",\"shape\":[4,8],\"data_offsets\":[0,64]}}";
  bytes[0] = char(header.size());
  write_file(path, bytes + header + std::string(64, '\0'));
  CHECK(load_error(path, &iris.m) ==
        "checkpoint '" + path + "': 'h1.W' has dtype F16 in the checkpoint, the model expects F32");

  CHECK(load_error(dir.file("none.safetensors"), &iris.m) ==
        "cannot open '" + dir.file("none.safetensors") + "': No such file or directory");
}

TEST_CASE("checkpoint: damaged files give errors, never crashes", "[runtime]") {
  TempDir dir;
  Model model("Iris");
  const nnrt_model *m = &model.m;
  std::vector<float> params = pattern(m->num_params, 1.0f), opt = pattern(m->opt_state_size, 1.0f);
  std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
  REQUIRE(save_error(good, m, params.data()) == "(no error)");
  nnrt_error err{};
  REQUIRE(nnrt_checkpoint_save(good.c_str(), m, params.data(), opt.data(), nullptr, &err) == 0);
  std::string bytes = read_file(good);

  SECTION("every truncation") {
    for (size_t len = 0; len < bytes.size(); len++) {
      write_file(bad, bytes.substr(0, len));
      std::string e = load_error(bad, m);
      INFO("length " << len << ": " << e);
      REQUIRE(e != "(no error)");
      REQUIRE(e.find(bad) != std::string::npos);
    }
    write_file(bad, bytes.substr(0, 5));
    CHECK(load_error(bad, m) ==
          "checkpoint '" + bad + "' is not a safetensors file (only 5 bytes)");
    write_file(bad, bytes.substr(0, bytes.size() - 1));
    CHECK(load_error(bad, m).find("outside the") != std::string::npos);
  }
  SECTION("garbage and hostile headers") {
    write_file(bad, "this is not a checkpoint at all, just text");
    CHECK(load_error(bad, m).find("is not a safetensors file") != std::string::npos);
    auto with_header = [&](const std::string &h, size_t data = 0) {
      std::string b(8, '\0');
      uint64_t n = h.size();
      for (int i = 0; i < 8; i++)
        b[i] = char(n >> (8 * i));
      write_file(bad, b + h + std::string(data, '\0'));
      return load_error(bad, m);
    };
    CHECK(with_header("[1,2,3]") ==
          "checkpoint '" + bad + "' is not a safetensors file (no JSON header)");
    CHECK(with_header("{\"a\":") ==
          "checkpoint '" + bad +
              "' is not a safetensors file: invalid JSON at byte 5: unexpected end");
    CHECK(with_header("{\"__metadata__\":[]}").find("__metadata__ is not an object") !=
          std::string::npos);
    CHECK(with_header("{\"__metadata__\":{\"nnc.model\":3}}") ==
          "checkpoint '" + bad + "': metadata 'nnc.model' is not a string");
    CHECK(with_header("{\"h1.W\":3}").find("lacks dtype, shape or data_offsets") !=
          std::string::npos);
    CHECK(
        with_header(
            "{\"h1.W\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[0,99999999999]}}", 128)
            .find("outside the 128 data bytes") != std::string::npos);
    CHECK(
        with_header("{\"h1.W\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[-4,124]}}", 128)
            .find("bad data_offsets") != std::string::npos);
    CHECK(with_header("{\"h1.W\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[0,64]}}",
                      128) ==
          "checkpoint '" + bad +
              "' is corrupt: tensor 'h1.W' has 64 data bytes, its shape and dtype need 128");
    CHECK(with_header("{\"h1.W\":{\"dtype\":\"F32\",\"shape\":[4,-8],\"data_offsets\":[0,0]}}")
              .find("bad shape") != std::string::npos);
    CHECK(with_header(
              "{\"h1.W\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4)
              .find("has rank 7") != std::string::npos);
    CHECK(with_header(std::string(5000, '[')).find("is not a safetensors file") !=
          std::string::npos);
    CHECK(with_header("{\"a\":\"\\ud800\\u0000\"}").find("is not a safetensors file") !=
          std::string::npos);
    // A header length far beyond the file.
    std::string b(8, '\xff');
    write_file(bad, b + "{}");
    CHECK(load_error(bad, m).find("is not a safetensors file (header length") != std::string::npos);
  }
  SECTION("every single-byte corruption of the header") {
    uint64_t n = header_len(bytes);
    for (size_t i = 0; i < 8 + n; i++) {
      for (int v : {0, int('"'), int('}'), int('9'), 0xff}) {
        std::string b = bytes;
        b[i] = char(v);
        write_file(bad, b);
        std::vector<float> p(m->num_params), o(m->opt_state_size);
        nnrt_metadata md{};
        nnrt_checkpoint_load(bad.c_str(), m, p.data(), o.data(), nullptr, &md,
                             &err); // must not crash
        nnrt_metadata_free(&md);
      }
    }
  }
}

TEST_CASE("checkpoint: non-finite weights are refused at load", "[runtime]") {
  TempDir dir;
  Model model("Iris");
  const nnrt_model *m = &model.m;
  std::vector<float> params = pattern(m->num_params, 1.0f), opt(m->opt_state_size, 0.5f);
  std::string path = dir.file("model.safetensors");
  const std::string tail = "; expected finite values (was it saved by a run that diverged?)";

  SECTION("the first tensor with a NaN is named, and the caller's buffer kept") {
    uint32_t nan_bits = 0x7fc01234;
    int64_t at = m->tensors[1].offset + 2; // h1.b[2]
    std::memcpy(&params[at], &nan_bits, 4);
    params[m->tensors[2].offset] = INFINITY; // out.W[0], later
    REQUIRE(save_error(path, m, params.data()) == "(no error)");
    std::string bytes = read_file(path); // saved exactly, payload and all
    CHECK(std::memcmp(bytes.data() + 8 + header_len(bytes) + 4 * at, &nan_bits, 4) == 0);
    CHECK(load_error(path, m) == "checkpoint '" + path +
                                     "': tensor 'h1.b' has a non-finite value (nan at index 2)" +
                                     tail);
  }
  SECTION("-Inf, and loading by name (--init) too") {
    params[m->tensors[3].offset + 1] = -INFINITY; // out.b[1]
    REQUIRE(save_error(path, m, params.data()) == "(no error)");
    std::vector<float> p(m->num_params);
    std::vector<int> loaded(m->num_tensors);
    nnrt_error err{};
    REQUIRE(nnrt_checkpoint_load_matching(path.c_str(), m, p.data(), loaded.data(), nullptr,
                                          nullptr, &err) == 1);
    CHECK(std::string(err.msg) == "checkpoint '" + path +
                                      "': tensor 'out.b' has a non-finite value (-inf at index 1)" +
                                      tail);
  }
  SECTION("the optimizer state") {
    opt[5] = NAN;
    nnrt_error err{};
    REQUIRE(nnrt_checkpoint_save(path.c_str(), m, params.data(), opt.data(), nullptr, &err) == 0);
    std::vector<float> p(m->num_params), o(m->opt_state_size);
    REQUIRE(nnrt_checkpoint_load(path.c_str(), m, p.data(), o.data(), nullptr, nullptr, &err) == 1);
    CHECK(std::string(err.msg) ==
          "checkpoint '" + path + "': the optimizer state has a non-finite value (nan at index 5)" +
              tail);
  }
}

TEST_CASE("checkpoint: a directory is named as such at load", "[runtime]") {
  TempDir dir;
  Model model("Iris");
  std::string d = dir.file("adir");
  fs::create_directory(d);
  CHECK(load_error(d, &model.m) ==
        "checkpoint '" + d +
            "' is a directory; expected a safetensors file (written by nnc train --save)");
}

TEST_CASE("checkpoint: save refuses what is not a regular file, and follows symlinks",
          "[runtime]") {
  TempDir dir;
  Model model("Iris");
  const nnrt_model *m = &model.m;
  std::vector<float> params = pattern(m->num_params, 1.0f), back(m->num_params);
  const std::string expected = "; expected a path to a regular file (or a new one)";
  nnrt_error err{};

  SECTION("a pipe is left a pipe") {
    std::string pipe = dir.file("pipe");
    REQUIRE(mkfifo(pipe.c_str(), 0600) == 0);
    CHECK(save_error(pipe, m, params.data()) ==
          "cannot write '" + pipe + "': it is not a regular file (a device, pipe or socket)" +
              expected);
    CHECK(fs::is_fifo(pipe));
    CHECK(dir.entries() == std::vector<std::string>{"pipe"});
  }
  SECTION("a directory") {
    std::string d = dir.file("adir");
    fs::create_directory(d);
    CHECK(save_error(d, m, params.data()) ==
          "cannot write '" + d + "': it is a directory" + expected);
  }
  SECTION("a link to a device is refused, the device untouched") {
    if (!fs::exists("/dev/null"))
      return;
    std::string link = dir.file("null-link");
    fs::create_symlink("/dev/null", link);
    CHECK(save_error(link, m, params.data()) ==
          "cannot write '" + link + "': it is not a regular file (a device, pipe or socket)" +
              expected);
    CHECK(fs::is_character_file("/dev/null"));
  }
  SECTION("a symlink (relative, through another link) is written through") {
    std::string real = dir.file("real.safetensors");
    write_file(real, "old");
    fs::create_symlink("real.safetensors", dir.file("a"));
    fs::create_symlink("a", dir.file("b"));
    REQUIRE(save_error(dir.file("b"), m, params.data()) == "(no error)");
    CHECK(fs::is_symlink(dir.file("a")));
    CHECK(fs::is_symlink(dir.file("b")));
    REQUIRE(nnrt_checkpoint_load(real.c_str(), m, back.data(), nullptr, nullptr, nullptr, &err) ==
            0);
    CHECK(back == params);
    CHECK(dir.entries() == std::vector<std::string>{"a", "b", "real.safetensors"});
  }
  SECTION("links in a loop are refused") {
    fs::create_symlink("y", dir.file("x"));
    fs::create_symlink("x", dir.file("y"));
    CHECK(save_error(dir.file("x"), m, params.data()) ==
          "cannot write '" + dir.file("x") +
              "': Too many levels of symbolic links; expected a link that leads to a file");
  }
  SECTION("a dangling symlink makes the file it names") {
    fs::create_symlink("new.safetensors", dir.file("link"));
    REQUIRE(save_error(dir.file("link"), m, params.data()) == "(no error)");
    CHECK(fs::is_symlink(dir.file("link")));
    REQUIRE(nnrt_checkpoint_load(dir.file("new.safetensors").c_str(), m, back.data(), nullptr,
                                 nullptr, nullptr, &err) == 0);
    CHECK(back == params);
  }
}
