// nnrt text corpora: UTF-8 checks, character and word vocabularies (the
// Keras Tokenizer's rules), encode/decode, vocabularies in checkpoint
// metadata, and datasets cut from token streams; plus the real Moby Dick
// and tiny Shakespeare files of examples/textgen.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <cstring>

using namespace rt_test;

namespace {

struct Vocab {
  nnrt_vocab v{};
  ~Vocab() { nnrt_vocab_free(&v); }
};

std::vector<std::string> tokens(const nnrt_vocab &v) {
  return std::vector<std::string>(v.tokens, v.tokens + v.size);
}

int build(nnrt_vocab &v, int kind, const std::string &text, nnrt_error &err) {
  return nnrt_vocab_build(&v, kind, text.data(), text.size(), &err);
}

std::vector<int32_t> encode(const nnrt_vocab &v, const std::string &text, nnrt_error &err,
                            int *rc = nullptr) {
  int32_t *ids = nullptr;
  int64_t n = 0;
  int r = nnrt_vocab_encode(&v, text.data(), text.size(), &ids, &n, &err);
  if (rc)
    *rc = r;
  std::vector<int32_t> out(ids, ids + n);
  free(ids);
  return out;
}

std::string decode(const nnrt_vocab &v, const std::vector<int32_t> &ids) {
  char *text = nullptr;
  nnrt_error err{};
  if (nnrt_vocab_decode(&v, ids.data(), int64_t(ids.size()), &text, &err))
    return "<error: " + std::string(err.msg);
  std::string s(text);
  free(text);
  return s;
}

std::string load_error(const std::string &bytes) {
  TempDir dir;
  std::string path = dir.file("t.txt");
  write_file(path, bytes);
  char *text = nullptr;
  size_t len = 0;
  nnrt_error err{};
  int rc = nnrt_text_load(path.c_str(), &text, &len, &err);
  free(text);
  if (!rc)
    return "ok";
  std::string msg = err.msg;
  size_t at = msg.find(path);
  if (at != std::string::npos)
    msg.replace(at, path.size(), "F");
  return msg;
}

std::string data_file(const char *name) {
  return std::string(NNC_SOURCE_DIR) + "/examples/textgen/data/" + name;
}

} // namespace

TEST_CASE("text: loading checks UTF-8 and names line and byte", "[runtime]") {
  CHECK(load_error("h\xc3\xa9llo \xe2\x86\x92 \xf0\x9f\x90\xb3\n") == "ok");
  CHECK(load_error("ab\ncd\xff") ==
        "F:2: invalid UTF-8 at byte 5 (0xff): this byte never occurs in UTF-8");
  CHECK(load_error("a\n\nb\x80") ==
        "F:3: invalid UTF-8 at byte 4 (0x80): a continuation byte without a lead byte");
  CHECK(load_error("x\xc0\xaf") == "F:1: invalid UTF-8 at byte 1 (0xc0): overlong encoding");
  CHECK(load_error("x\xe0\x80\xaf") == "F:1: invalid UTF-8 at byte 1 (0xe0): overlong encoding");
  CHECK(load_error("\xed\xa0\x80") == "F:1: invalid UTF-8 at byte 0 (0xed): UTF-16 surrogate");
  CHECK(load_error("\xf4\x90\x80\x80") ==
        "F:1: invalid UTF-8 at byte 0 (0xf4): code point past U+10FFFF");
  CHECK(load_error("ok \xe2\x86") ==
        "F:1: invalid UTF-8 at byte 3 (0xe2): sequence cut short by the end of the text");
  CHECK(load_error("ok \xe2\x86 x") == "F:1: invalid UTF-8 at byte 3 (0xe2): sequence cut short");
  CHECK(load_error(std::string("a\0b", 3)) ==
        "F:1: invalid UTF-8 at byte 1 (0x00): NUL byte (not a text file?)");
  CHECK(load_error("") == "F: file is empty");

  char *text = nullptr;
  size_t len = 0;
  nnrt_error err{};
  CHECK(nnrt_text_load("/nonexistent/corpus.txt", &text, &len, &err) != 0);
  CHECK(std::string(err.msg) == "cannot open '/nonexistent/corpus.txt': No such file or directory");
  CHECK(text == nullptr);

  // Without a name (a prompt), the line is given in words.
  CHECK(nnrt_utf8_check(nullptr, "ab\xfe", 3, &err) != 0);
  CHECK(std::string(err.msg) ==
        "invalid UTF-8 at line 1, byte 2 (0xfe): this byte never occurs in UTF-8");
}

TEST_CASE("vocab: words follow the Keras Tokenizer", "[runtime]") {
  nnrt_error err{};
  SECTION("filters, case, apostrophes, whitespace") {
    Vocab w;
    REQUIRE(build(w.v, NNRT_TOKENS_WORDS,
                  "Hello, World! It's the world's END-game;\tnew\nline\r\n(x)  \"q\" a_b",
                  err) == 0);
    // Counts: world 1, world's 1, ...: all 1, so first-occurrence order.
    CHECK(tokens(w.v) == std::vector<std::string>{"", "hello", "world", "it's", "the", "world's",
                                                  "end", "game", "new", "line", "x", "q", "a",
                                                  "b"});
    CHECK(w.v.kind == NNRT_TOKENS_WORDS);
    CHECK(w.v.size == 14);
    CHECK(nnrt_vocab_id(&w.v, "it's", 4) == 3);
    CHECK(nnrt_vocab_id(&w.v, "Hello", 5) == -1); // looked up as given
    CHECK(nnrt_vocab_id(&w.v, "", 0) == -1);      // the reserved id is not a word
  }
  SECTION("ids by descending count, ties by first occurrence") {
    Vocab w;
    REQUIRE(build(w.v, NNRT_TOKENS_WORDS, "b a B. c a b... D d d? d! y x y x", err) == 0);
    CHECK(tokens(w.v) == std::vector<std::string>{"", "d", "b", "a", "y", "x", "c"});
    CHECK(w.v.counts[1] == 4);
    CHECK(w.v.counts[2] == 3);
    CHECK(w.v.counts[6] == 1);
    CHECK(w.v.counts[0] == 0);
  }
  SECTION("non-ASCII letters are lower-cased, Unicode spaces split") {
    Vocab w;
    REQUIRE(build(w.v, NNRT_TOKENS_WORDS,
                  "\xc3\x89t\xc3\xa9 \xc3\xa9t\xc3\xa9\xc2\xa0\xce\x9b\xce\xbb", err) == 0);
    CHECK(tokens(w.v) == std::vector<std::string>{"", "\xc3\xa9t\xc3\xa9", "\xce\xbb\xce\xbb"});
  }
  SECTION("no words") {
    Vocab w;
    CHECK(build(w.v, NNRT_TOKENS_WORDS, "... --- !!!", err) != 0);
    CHECK(std::string(err.msg) == "the text has no words");
    CHECK(build(w.v, 7, "a", err) != 0);
    CHECK(std::string(err.msg) == "unknown token kind 7 (chars or words)");
  }
}

TEST_CASE("vocab: characters are the sorted code points", "[runtime]") {
  nnrt_error err{};
  Vocab c;
  REQUIRE(build(c.v, NNRT_TOKENS_CHARS, "h\xc3\xa9llo \xe2\x86\x92 Hi\n", err) == 0);
  CHECK(tokens(c.v) ==
        std::vector<std::string>{"\n", " ", "H", "h", "i", "l", "o", "\xc3\xa9", "\xe2\x86\x92"});
  CHECK(c.v.counts[1] == 2);
  CHECK(c.v.counts[5] == 2);
  std::string text = "Hi h\xc3\xa9llo\n";
  auto ids = encode(c.v, text, err);
  CHECK(ids == std::vector<int32_t>{2, 4, 1, 3, 7, 5, 5, 6, 0});
  CHECK(decode(c.v, ids) == text); // concatenated, case kept
}

TEST_CASE("vocab: encode, decode and unknown tokens", "[runtime]") {
  nnrt_error err{};
  Vocab w;
  REQUIRE(build(w.v, NNRT_TOKENS_WORDS, "call me ishmael. some years ago, never mind how long",
                err) == 0);
  auto ids = encode(w.v, "Call me, ISHMAEL!", err);
  CHECK(ids == std::vector<int32_t>{1, 2, 3});
  CHECK(decode(w.v, ids) == "call me ishmael");
  CHECK(encode(w.v, " ... ", err).empty());

  int rc = 0;
  encode(w.v, "Call me Ishmeal.", err, &rc);
  CHECK(rc != 0);
  CHECK(std::string(err.msg) ==
        "'ishmeal' is not in the vocabulary (did you train on this corpus?)");
  encode(w.v, "foo me bar, FOO baz", err, &rc);
  CHECK(rc != 0);
  CHECK(std::string(err.msg) ==
        "'foo', 'bar', 'baz' are not in the vocabulary (did you train on this corpus?)");
  encode(w.v, "me \xff", err, &rc);
  CHECK(rc != 0);
  CHECK(std::string(err.msg) ==
        "invalid UTF-8 at line 1, byte 3 (0xff): this byte never occurs in UTF-8");

  // Many unknown words: the message stays one line and says how many more.
  std::string many;
  for (int i = 0; i < 300; i++)
    many += "unknownword" + std::to_string(i) + " ";
  encode(w.v, many, err, &rc);
  CHECK(rc != 0);
  CHECK(std::string(err.msg).find(
            " more are not in the vocabulary (did you train on this corpus?)") !=
        std::string::npos);

  char *text = nullptr;
  std::vector<int32_t> bad = {1, 0};
  CHECK(nnrt_vocab_decode(&w.v, bad.data(), 2, &text, &err) != 0);
  CHECK(std::string(err.msg) == "token 1: id 0 is reserved in a word vocabulary");
  bad = {1, 99};
  CHECK(nnrt_vocab_decode(&w.v, bad.data(), 2, &text, &err) != 0);
  CHECK(std::string(err.msg) == "token 1: id 99 is outside the vocabulary (11 ids)");
  CHECK(text == nullptr);

  Vocab c;
  REQUIRE(build(c.v, NNRT_TOKENS_CHARS, "abc", err) == 0);
  encode(c.v, "abzd\tz", err, &rc);
  CHECK(rc != 0);
  CHECK(std::string(err.msg) ==
        "'z', 'd', U+0009 are not in the vocabulary (did you train on this corpus?)");
}

TEST_CASE("vocab: metadata round trip, also through a checkpoint", "[runtime]") {
  nnrt_error err{};
  for (int kind : {NNRT_TOKENS_WORDS, NNRT_TOKENS_CHARS}) {
    Vocab a;
    REQUIRE(build(a.v, kind,
                  "The \"quoted\" \\ back\\slash, tab\there; it's \xc3\xa9t\xc3\xa9\nthe end",
                  err) == 0);
    nnrt_metadata md{};
    REQUIRE(nnrt_vocab_to_metadata(&a.v, &md, &err) == 0);
    CHECK(std::string(nnrt_metadata_get(&md, NNRT_META_TOKENS)) ==
          (kind == NNRT_TOKENS_WORDS ? "words" : "chars"));

    // Through a safetensors file of a one-parameter model.
    nnrt_tensor_info p{};
    p.name = "w";
    p.role = NNRT_PARAM;
    p.dtype = NNRT_F32;
    p.rank = 1;
    p.shape[0] = 1;
    p.size = 1;
    nnrt_model m{};
    m.abi_version = NNRT_ABI_VERSION;
    m.name = "TextGen";
    m.batch = 1;
    m.num_params = 1;
    m.num_tensors = 1;
    m.tensors = &p;
    TempDir dir;
    std::string path = dir.file("ck.safetensors");
    float w = 0.5f;
    REQUIRE(nnrt_checkpoint_save(path.c_str(), &m, &w, nullptr, &md, &err) == 0);
    nnrt_metadata_free(&md);
    nnrt_metadata got{};
    REQUIRE(nnrt_checkpoint_load(path.c_str(), &m, &w, nullptr, nullptr, &got, &err) == 0);
    Vocab b;
    REQUIRE(nnrt_vocab_from_metadata(&b.v, &got, &err) == 0);
    nnrt_metadata_free(&got);
    CHECK(b.v.kind == kind);
    CHECK(tokens(b.v) == tokens(a.v));
    for (int32_t id = kind == NNRT_TOKENS_WORDS ? 1 : 0; id < b.v.size; id++)
      CHECK(nnrt_vocab_id(&b.v, b.v.tokens[id], strlen(b.v.tokens[id])) == id);
    std::string s = "the end";
    CHECK(encode(b.v, s, err) == encode(a.v, s, err));
  }
}

TEST_CASE("vocab: bad metadata is an error", "[runtime]") {
  auto load = [](const char *kind, const char *json) {
    nnrt_metadata md{};
    if (kind)
      nnrt_metadata_set(&md, NNRT_META_TOKENS, kind);
    if (json)
      nnrt_metadata_set(&md, NNRT_META_VOCAB, json);
    nnrt_vocab v{};
    nnrt_error err{};
    int rc = nnrt_vocab_from_metadata(&v, &md, &err);
    nnrt_metadata_free(&md);
    nnrt_vocab_free(&v);
    return rc ? std::string(err.msg) : std::string("ok");
  };
  CHECK(load("words", "[\"\",\"a\",\"b\"]") == "ok");
  CHECK(load("chars", "[\"a\",\"\\n\",\"\\u00e9\"]") == "ok");
  CHECK(load(nullptr, "[]") == "no vocabulary in the metadata (needs 'nnc.vocab' and 'nnc.tokens'; "
                               "was the model trained on text?)");
  CHECK(load("bytes", "[\"a\"]") ==
        "metadata 'nnc.tokens' is 'bytes', expected 'words', 'chars' or 'babi'");
  CHECK(load("words", "[\"\",").rfind("metadata 'nnc.vocab': invalid JSON at byte", 0) == 0);
  CHECK(load("words", "[\"\",3]") ==
        "metadata 'nnc.vocab': expected a list of strings, item 1 is not a string");
  CHECK(load("words", "[\"\"]") == "metadata 'nnc.vocab': the vocabulary has no tokens");
  CHECK(load("words", "[\"a\",\"b\"]") ==
        "metadata 'nnc.vocab': a word vocabulary starts with the reserved \"\"");
  CHECK(load("words", "[\"\",\"a b\"]") == "metadata 'nnc.vocab': token 1 is not a word");
  CHECK(load("chars", "[\"a\",\"bc\"]") ==
        "metadata 'nnc.vocab': token 1 is not a single character");
  CHECK(load("chars", "[\"a\",\"\"]") == "metadata 'nnc.vocab': token 1 is not a single character");
  CHECK(load("words", "[\"\",\"a\",\"b\",\"a\"]") ==
        "metadata 'nnc.vocab': tokens 1 and 3 are both 'a'");
}

TEST_CASE("token datasets: windows and char-rnn sequences", "[runtime]") {
  std::vector<int32_t> ids(11);
  for (int i = 0; i < 11; i++)
    ids[i] = 100 + i;
  nnrt_error err{};
  nnrt_dataset ds{};
  SECTION("windows of 3, stride 1") {
    REQUIRE(nnrt_dataset_windows(&ds, ids.data(), 11, 3, &err) == 0);
    CHECK(ds.n == 8);
    REQUIRE(ds.num_fields == 2);
    CHECK(ds.fields[0].dtype == NNRT_I32);
    CHECK(ds.fields[0].size == 3);
    CHECK(ds.fields[1].dtype == NNRT_I32);
    CHECK(ds.fields[1].size == 1);
    auto x = static_cast<int32_t *>(ds.fields[0].data),
         y = static_cast<int32_t *>(ds.fields[1].data);
    for (int i = 0; i < 8; i++) {
      CHECK(x[i * 3] == 100 + i);
      CHECK(x[i * 3 + 2] == 102 + i);
      CHECK(y[i] == 103 + i);
    }
    // Shaped for a model with x int32[3] and a scalar int32 target, so
    // nnrt_fit takes it as it is.
    nnrt_tensor_info t[2] = {};
    t[0].name = "x";
    t[0].role = NNRT_INPUT;
    t[0].dtype = NNRT_I32;
    t[0].rank = 1;
    t[0].shape[0] = 3;
    t[0].size = 3;
    t[1].name = "y";
    t[1].role = NNRT_TARGET;
    t[1].dtype = NNRT_I32;
    t[1].size = 1;
    nnrt_model m{};
    m.abi_version = NNRT_ABI_VERSION;
    m.name = "Windows";
    m.batch = 4;
    m.num_tensors = 2;
    m.tensors = t;
    CHECK(nnrt_dataset_check(&ds, &m, 1, "windows", &err) == 0);

    nnrt_dataset train{}, test{};
    REQUIRE(nnrt_split_last(&ds, 0.25, &train, &test, &err) == 0);
    CHECK(train.n == 6);
    CHECK(test.n == 2);
    CHECK(static_cast<int32_t *>(test.fields[1].data)[0] == 109);
    CHECK(static_cast<int32_t *>(test.fields[1].data)[1] == 110);
    CHECK(static_cast<int32_t *>(train.fields[0].data)[5 * 3] == 105);
    nnrt_dataset_free(&train);
    nnrt_dataset_free(&test);
    CHECK(nnrt_split_last(&ds, 1.5, &train, &test, &err) != 0);
    CHECK(std::string(err.msg) == "test fraction 1.5 is not between 0 and 1");
  }
  SECTION("exactly one window") {
    REQUIRE(nnrt_dataset_windows(&ds, ids.data(), 11, 10, &err) == 0);
    CHECK(ds.n == 1);
    CHECK(static_cast<int32_t *>(ds.fields[1].data)[0] == 110);
  }
  SECTION("sequences of 3, stride 3, targets shifted by one") {
    REQUIRE(nnrt_dataset_sequences(&ds, ids.data(), 11, 3, &err) == 0);
    CHECK(ds.n == 3); // (11 - 1) / 3
    CHECK(ds.fields[0].size == 3);
    CHECK(ds.fields[1].size == 3);
    auto x = static_cast<int32_t *>(ds.fields[0].data),
         y = static_cast<int32_t *>(ds.fields[1].data);
    CHECK(std::vector<int32_t>(x, x + 9) ==
          std::vector<int32_t>{100, 101, 102, 103, 104, 105, 106, 107, 108});
    CHECK(std::vector<int32_t>(y, y + 9) ==
          std::vector<int32_t>{101, 102, 103, 104, 105, 106, 107, 108, 109});
    nnrt_dataset_free(&ds);
    REQUIRE(nnrt_dataset_sequences(&ds, ids.data(), 10, 3, &err) == 0);
    CHECK(ds.n == 3); // the last target is token 9
  }
  SECTION("too short") {
    CHECK(nnrt_dataset_windows(&ds, ids.data(), 11, 11, &err) != 0);
    CHECK(std::string(err.msg) ==
          "the corpus has 11 tokens, too few for windows of 11: it needs at least 12");
    CHECK(nnrt_dataset_sequences(&ds, ids.data(), 3, 3, &err) != 0);
    CHECK(std::string(err.msg) ==
          "the corpus has 3 tokens, too few for sequences of 3: it needs at least 4");
    CHECK(nnrt_dataset_windows(&ds, ids.data(), 11, 0, &err) != 0);
    CHECK(std::string(err.msg) == "windows of 0 tokens: the length must be positive");
    CHECK(ds.n == 0);
  }
  nnrt_dataset_free(&ds);
}

TEST_CASE("text: Moby Dick chapters 1-4 and tiny Shakespeare", "[runtime]") {
  nnrt_error err{};
  char *text = nullptr;
  size_t len = 0;
  REQUIRE(nnrt_text_load(data_file("moby_dick_four_chapters.txt").c_str(), &text, &len, &err) == 0);
  CHECK(len == 61614);
  Vocab w;
  REQUIRE(nnrt_vocab_build(&w.v, NNRT_TOKENS_WORDS, text, len, &err) == 0);
  // 2727 distinct words + the reserved id 0 (Keras' Tokenizer on the raw
  // text; the course tokenised with spaCy first and got other counts).
  CHECK(w.v.size == 2728);
  CHECK(std::vector<std::string>(w.v.tokens, w.v.tokens + 6) ==
        std::vector<std::string>{"", "the", "a", "and", "of", "i"});
  CHECK(w.v.counts[1] == 599);
  CHECK(nnrt_vocab_id(&w.v, "marshal's", 9) > 0);
  int32_t *ids = nullptr;
  int64_t n = 0;
  REQUIRE(nnrt_vocab_encode(&w.v, text, len, &ids, &n, &err) == 0);
  CHECK(n == 11253);
  nnrt_dataset ds{};
  REQUIRE(nnrt_dataset_windows(&ds, ids, n, 25, &err) == 0);
  CHECK(ds.n == 11228);
  char *back = nullptr;
  REQUIRE(nnrt_vocab_decode(&w.v, ids, 6, &back, &err) == 0);
  CHECK(std::string(back) == "call me ishmael some years ago");
  free(back);
  nnrt_dataset_free(&ds);
  free(ids);
  free(text);

  REQUIRE(nnrt_text_load(data_file("tinyshakespeare.txt").c_str(), &text, &len, &err) == 0);
  CHECK(len == 1115394);
  Vocab c;
  REQUIRE(nnrt_vocab_build(&c.v, NNRT_TOKENS_CHARS, text, len, &err) == 0);
  CHECK(c.v.size == 65);
  CHECK(std::string(c.v.tokens[0]) == "\n");
  CHECK(std::string(c.v.tokens[1]) == " ");
  REQUIRE(nnrt_vocab_encode(&c.v, text, len, &ids, &n, &err) == 0);
  CHECK(n == 1115394);
  REQUIRE(nnrt_dataset_sequences(&ds, ids, n, 100, &err) == 0);
  CHECK(ds.n == 11153);
  nnrt_dataset train{}, val{};
  REQUIRE(nnrt_split_last(&ds, 0.1, &train, &val, &err) == 0);
  CHECK(val.n == 1115);
  CHECK(train.n == 10038);
  nnrt_dataset_free(&train);
  nnrt_dataset_free(&val);
  nnrt_dataset_free(&ds);
  free(ids);
  free(text);
}
