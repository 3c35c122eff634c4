// nnrt bAbI data: tokenization as Keras's babi_memnn, both file formats
// (original bAbI and the course's JSON lines), the sorted vocabulary over
// train and test, pre-padding, the model check, and the errors (file:line);
// plus the real files of examples/qa/data.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <algorithm>
#include <cstring>

using namespace rt_test;

namespace {

// One loaded pair (or single file) of bAbI files, freed on scope exit.
struct Loaded {
  nnrt_babi_set sets[2]{};
  nnrt_vocab vocab{};
  int64_t story = 0, question = 0;
  int rc = 0;
  std::string msg;
  Loaded(const std::vector<std::string> &paths) {
    std::vector<const char *> p;
    for (auto &s : paths)
      p.push_back(s.c_str());
    nnrt_error err{};
    rc = nnrt_babi_load(p.data(), int(p.size()), sets, &vocab, &story, &question, &err);
    msg = err.msg;
  }
  ~Loaded() {
    for (auto &s : sets)
      nnrt_babi_set_free(&s);
    nnrt_vocab_free(&vocab);
  }
  std::vector<std::string> tokens() const {
    return std::vector<std::string>(vocab.tokens, vocab.tokens + vocab.size);
  }
  std::string words(const int32_t *ids, int64_t n) const {
    std::string s;
    for (int64_t i = 0; i < n; i++)
      s += (i ? " " : "") + std::string(vocab.tokens[ids[i]]);
    return s;
  }
  std::string story_of(int set, int64_t i) const {
    const nnrt_babi_set &s = sets[set];
    return words(s.story_ids + s.story_start[i], s.story_len[i]);
  }
  std::string question_of(int set, int64_t i) const {
    const nnrt_babi_set &s = sets[set];
    return words(s.question_ids + s.question_start[i], s.question_len[i]);
  }
};

std::vector<std::string> tokenize(const std::string &text) {
  nnrt_vocab v{};
  nnrt_error err{};
  if (nnrt_vocab_build(&v, NNRT_TOKENS_BABI, text.data(), text.size(), &err))
    return {"<error: " + std::string(err.msg)};
  int32_t *ids = nullptr;
  int64_t n = 0;
  std::vector<std::string> out;
  if (nnrt_vocab_encode(&v, text.data(), text.size(), &ids, &n, &err) == 0)
    for (int64_t i = 0; i < n; i++)
      out.push_back(v.tokens[ids[i]]);
  free(ids);
  nnrt_vocab_free(&v);
  return out;
}

// The error of loading `text` as a file, with the file's path replaced by F.
std::string load_error(const std::string &text) {
  TempDir dir;
  std::string path = dir.file("t.txt");
  write_file(path, text);
  Loaded l({path});
  if (!l.rc)
    return "ok";
  std::string msg = l.msg;
  for (size_t at; (at = msg.find(path)) != std::string::npos;)
    msg.replace(at, path.size(), "F");
  return msg;
}

const char *kBabi = "1 Mary moved to the bathroom.\n"
                    "2 John went to the hallway.\n"
                    "3 Where is Mary? \tbathroom\t1\n"
                    "4 Daniel went back to the hallway.\n"
                    "5 Where is Daniel?\thallway\t4\n"
                    "1 Sandra travelled to the office.\n"
                    "2 Which way?\tn,w\t1\n";

} // namespace

TEST_CASE("babi tokens: words and punctuation, lower-cased, as Keras's babi_memnn",
          "[runtime][babi]") {
  CHECK(tokenize("Mary moved to the bathroom.") ==
        std::vector<std::string>{"mary", "moved", "to", "the", "bathroom", "."});
  CHECK(tokenize("Is Sandra in the hallway? ") ==
        std::vector<std::string>{"is", "sandra", "in", "the", "hallway", "?"});
  // re.split(r'(\W+)'): a run of punctuation is one token, spaces stripped
  CHECK(tokenize("John's  ball ...  ok!?") ==
        std::vector<std::string>{"john", "'", "s", "ball", "...", "ok", "!?"});
  CHECK(tokenize("a,b\tc_d 42") == std::vector<std::string>{"a", ",", "b", "c_d", "42"});
  CHECK(tokenize("Émile left.") == std::vector<std::string>{"émile", "left", "."});
  CHECK(tokenize("  ").front().rfind("<error: the text has no words", 0) == 0);
}

TEST_CASE("babi: the original format, stories so far, sorted vocabulary", "[runtime][babi]") {
  TempDir dir;
  std::string train = dir.file("train.txt"), test = dir.file("test.txt");
  write_file(train, kBabi);
  write_file(test, "1 Mary went to the Garden.\r\n2 Is Mary in the garden?\tyes\t1\r\n\n");
  Loaded l({train, test});
  REQUIRE(l.rc == 0);
  // every token of train and test, lower-cased and sorted; 0 = padding
  CHECK(l.tokens() ==
        std::vector<std::string>{"",          ".",       "?",      "back",   "bathroom", "daniel",
                                 "garden",    "hallway", "in",     "is",     "john",     "mary",
                                 "moved",     "n,w",     "office", "sandra", "the",      "to",
                                 "travelled", "way",     "went",   "where",  "which",    "yes"});
  REQUIRE(l.sets[0].n == 3);
  // the story of a question is every sentence of its story so far, not the questions
  CHECK(l.story_of(0, 0) == "mary moved to the bathroom . john went to the hallway .");
  CHECK(l.question_of(0, 0) == "where is mary ?");
  CHECK(std::string(l.vocab.tokens[l.sets[0].answer[0]]) == "bathroom");
  CHECK(
      l.story_of(0, 1) ==
      "mary moved to the bathroom . john went to the hallway . daniel went back to the hallway .");
  CHECK(std::string(l.vocab.tokens[l.sets[0].answer[1]]) == "hallway");
  CHECK(l.story_of(0, 2) == "sandra travelled to the office .");
  CHECK(std::string(l.vocab.tokens[l.sets[0].answer[2]]) == "n,w"); // one token, commas and all
  CHECK(l.sets[0].line[2] == 7);
  REQUIRE(l.sets[1].n == 1);
  CHECK(l.story_of(1, 0) == "mary went to the garden .");
  CHECK(l.story == 19);   // train's first story after three sentences
  CHECK(l.question == 6); // test's question
}

TEST_CASE("babi: JSON lines, pre-padded datasets, metadata round trip", "[runtime][babi]") {
  TempDir dir;
  std::string path = dir.file("qa.jsonl");
  write_file(path, "{\"story\": [\"Mary\", \"moved\", \"to\", \"the\", \"bathroom\", \".\"], "
                   "\"question\": [\"Is\", \"Mary\", "
                   "\"in\", \"the\", \"bathroom\", \"?\"], \"answer\": \"yes\"}\n"
                   "\n"
                   "{\"story\": [\"Sandra\", \"left\", \".\"], \"question\": [\"Is\", \"Mary\", "
                   "\"?\"], \"answer\": \"no\"}\n");
  Loaded l({path});
  REQUIRE(l.rc == 0);
  CHECK(l.tokens() == std::vector<std::string>{"", ".", "?", "bathroom", "in", "is", "left", "mary",
                                               "moved", "no", "sandra", "the", "to", "yes"});
  CHECK(l.story == 6);
  CHECK(l.question == 6);
  CHECK(l.sets[0].line[1] == 3);

  nnrt_dataset ds{};
  nnrt_error err{};
  REQUIRE(nnrt_babi_dataset(&l.sets[0], 8, 6, &ds, &err) == 0);
  REQUIRE(ds.num_fields == 3);
  CHECK(ds.fields[0].size == 8);
  CHECK(ds.fields[2].size == 1);
  const int32_t *x = (const int32_t *)ds.fields[0].data, *q = (const int32_t *)ds.fields[1].data,
                *y = (const int32_t *)ds.fields[2].data;
  // pre-padding, as Keras's pad_sequences
  CHECK(std::vector<int32_t>(x, x + 8) == std::vector<int32_t>{0, 0, 7, 8, 12, 11, 3, 1});
  CHECK(std::vector<int32_t>(x + 8, x + 16) == std::vector<int32_t>{0, 0, 0, 0, 0, 10, 6, 1});
  CHECK(std::vector<int32_t>(q + 6, q + 12) == std::vector<int32_t>{0, 0, 0, 5, 7, 2});
  CHECK(y[0] == 13);
  CHECK(y[1] == 9);
  nnrt_dataset_free(&ds);

  // a story longer than the model's: the file:line of the example
  CHECK(nnrt_babi_dataset(&l.sets[0], 5, 6, &ds, &err) == 1);
  CHECK(std::string(err.msg) ==
        path + ":1: the story has 6 tokens, more than the model's story length 5 (the "
               "longest story in this file has 6): make the model's story input at least "
               "that long");
  CHECK(nnrt_babi_dataset(&l.sets[0], 6, 4, &ds, &err) == 1);
  CHECK(std::string(err.msg).find(
            ":1: the question has 6 tokens, more than the model's question length 4") !=
        std::string::npos);

  // the vocabulary survives a checkpoint's metadata, and encodes chat text
  nnrt_metadata md{};
  REQUIRE(nnrt_vocab_to_metadata(&l.vocab, &md, &err) == 0);
  CHECK(std::string(nnrt_metadata_get(&md, NNRT_META_TOKENS)) == "babi");
  nnrt_vocab v{};
  REQUIRE(nnrt_vocab_from_metadata(&v, &md, &err) == 0);
  CHECK(v.kind == NNRT_TOKENS_BABI);
  CHECK(v.size == l.vocab.size);
  std::string text = "Sandra moved to the BATHROOM.\nIs Sandra in the bathroom?";
  int32_t *ids = nullptr;
  int64_t n = 0;
  REQUIRE(nnrt_vocab_encode(&v, text.data(), text.size(), &ids, &n, &err) == 0);
  CHECK(std::vector<int32_t>(ids, ids + n) ==
        std::vector<int32_t>{10, 8, 12, 11, 3, 1, 5, 10, 4, 11, 3, 2});
  free(ids);
  text = "Zorglub moved to the kitchen.";
  CHECK(nnrt_vocab_encode(&v, text.data(), text.size(), &ids, &n, &err) == 1);
  CHECK(std::string(err.msg) == "'zorglub', 'kitchen' are not in the vocabulary (the model knows "
                                "only the words of its training stories)");
  nnrt_vocab_free(&v);
  nnrt_metadata_free(&md);
}

TEST_CASE("babi: pre-padding", "[runtime][babi]") {
  int32_t ids[3] = {4, 5, 6}, out[5] = {9, 9, 9, 9, 9};
  CHECK(nnrt_pad_ids(ids, 3, 5, out) == 0);
  CHECK(std::vector<int32_t>(out, out + 5) == std::vector<int32_t>{0, 0, 4, 5, 6});
  CHECK(nnrt_pad_ids(ids, 3, 3, out) == 0);
  CHECK(std::vector<int32_t>(out, out + 3) == std::vector<int32_t>{4, 5, 6});
  CHECK(nnrt_pad_ids(ids, 0, 2, out) == 0);
  CHECK(std::vector<int32_t>(out, out + 2) == std::vector<int32_t>{0, 0});
  CHECK(nnrt_pad_ids(ids, 3, 2, out) == 1);
}

TEST_CASE("babi: errors name the file and line", "[runtime][babi]") {
  CHECK(load_error("") == "F: file is empty");
  CHECK(load_error("\n\n") == "F: no questions in the file");
  CHECK(load_error("1 Mary moved.\n2 She left.\n") == "F: no questions in the file");
  CHECK(load_error("1 Mary moved.\nMary left.\n") ==
        "F:2: expected 'ID sentence' or 'ID question?<TAB>answer<TAB>supporting fact IDs' (a "
        "number, a space, the "
        "text)");
  CHECK(load_error("3 Mary moved.\n") ==
        "F:1: the first story starts with ID 3; a story starts with ID 1");
  CHECK(load_error("1 Mary moved.\n2 Where is Mary?\t\t1\n") == "F:2: the answer is empty");
  CHECK(
      load_error("1 Mary moved.\n2 Where is Mary?\ta\t1\tx\n") ==
      "F:2: expected 'ID question?<TAB>answer<TAB>supporting fact IDs', found more than two tabs");
  CHECK(load_error("1 Mary moved.\n2 \tkitchen\t1\n") == "F:2: the question has no words");
  CHECK(
      load_error(
          "{\"story\": [\"a\"], \"question\": [\"b\"], \"answer\": \"yes\"}\n{\"story\": [\"a\"]\n")
          .rfind("F:2: invalid JSON at byte", 0) == 0);
  CHECK(load_error("{\"story\": [\"a\"], \"answer\": \"yes\"}\n") ==
        "F:1: expected {\"story\": [tokens], \"question\": [tokens], \"answer\": \"token\"}: "
        "'question' is missing");
  CHECK(load_error("{\"story\": \"a b\", \"question\": [\"b\"], \"answer\": \"yes\"}\n") ==
        "F:1: expected {\"story\": [tokens], \"question\": [tokens], \"answer\": \"token\"}: "
        "'story' is not a list");
  CHECK(load_error("{\"story\": [\"a\", 3], \"question\": [\"b\"], \"answer\": \"yes\"}\n") ==
        "F:1: 'story' item 1 is not a string");
  CHECK(load_error("{\"story\": [\"a\"], \"question\": [\"b\"], \"answer\": 1}\n") ==
        "F:1: 'answer' is not a string, expected a string such as \"yes\"");
  CHECK(load_error("{\"story\": [\"a\"], \"question\": [\"b\"]}\n") ==
        "F:1: 'answer' is missing, expected a string such as \"yes\"");
  CHECK(load_error("{\"story\": [\"a\"], \"question\": [\"b\"], \"answer\": \"no\"}\n[1, 2]\n") ==
        "F:2: expected an object {\"story\": [tokens], \"question\": [tokens], \"answer\": "
        "\"token\"}");
  CHECK(load_error("1 bad \xff byte\n").find("invalid UTF-8") != std::string::npos);

  nnrt_babi_set sets[1];
  nnrt_vocab v;
  nnrt_error err{};
  const char *missing = "/nonexistent/qa.txt";
  CHECK(nnrt_babi_load(&missing, 1, sets, &v, nullptr, nullptr, &err) == 1);
  CHECK(std::string(err.msg) == "cannot open '/nonexistent/qa.txt': No such file or directory");
}

TEST_CASE("babi: the model check", "[runtime][babi]") {
  nnrt_tensor_info t[4] = {};
  auto io = [&](int i, const char *name, int role, int dtype, int rank, int64_t size) {
    t[i].name = name;
    t[i].role = role;
    t[i].dtype = dtype;
    t[i].rank = rank;
    t[i].shape[0] = size;
    t[i].size = size;
  };
  io(0, "story", NNRT_INPUT, NNRT_I32, 1, 156);
  io(1, "question", NNRT_INPUT, NNRT_I32, 1, 6);
  io(2, "answer", NNRT_TARGET, NNRT_I32, 0, 1);
  io(3, "probs", NNRT_OUTPUT, NNRT_F32, 1, 38);
  nnrt_model m{};
  m.abi_version = NNRT_ABI_VERSION;
  m.name = "MemNet";
  m.batch = 1;
  m.num_tensors = 4;
  m.tensors = t;
  int64_t s = 0, q = 0;
  nnrt_error err{};
  REQUIRE(nnrt_babi_check_model(&m, &s, &q, &err) == 0);
  CHECK(s == 156);
  CHECK(q == 6);
  t[1].dtype = NNRT_F32;
  CHECK(nnrt_babi_check_model(&m, &s, &q, &err) == 1);
  CHECK(std::string(err.msg) ==
        "model 'MemNet': bAbI data gives the question as token ids, so input 'question' must "
        "be int[N], not float of rank 1");
  t[1].dtype = NNRT_I32;
  t[2].dtype = NNRT_F32;
  CHECK(nnrt_babi_check_model(&m, &s, &q, &err) == 1);
  CHECK(std::string(err.msg) ==
        "model 'MemNet': bAbI data gives one answer id per example, so the model needs one "
        "target 'int' (it has 1 target, not an int scalar)");
  t[2].dtype = NNRT_I32;
  t[1].role = NNRT_TARGET;
  m.num_tensors = 2; // story only
  CHECK(nnrt_babi_check_model(&m, &s, &q, &err) == 1);
  CHECK(std::string(err.msg) ==
        "model 'MemNet' has 1 input; bAbI data needs two: the story (int[S]) and the "
        "question (int[Q])");
}

TEST_CASE("babi: the real files of examples/qa/data", "[runtime][babi]") {
  std::string d = std::string(NNC_SOURCE_DIR) + "/examples/qa/data/";
  SECTION("the course's yes/no set: 38 ids, stories of up to 156 tokens, questions of 6") {
    Loaded l({d + "train_qa.jsonl", d + "test_qa.jsonl"});
    REQUIRE(l.rc == 0);
    CHECK(l.vocab.size == 38);
    CHECK(l.story == 156);
    CHECK(l.question == 6);
    CHECK(l.sets[0].n == 10000);
    CHECK(l.sets[1].n == 1000);
    CHECK(l.sets[1].max_story == 86);
    CHECK(l.story_of(0, 0) == "mary moved to the bathroom . sandra journeyed to the bedroom .");
    CHECK(l.question_of(0, 0) == "is sandra in the hallway ?");
    CHECK(std::string(l.vocab.tokens[l.sets[0].answer[0]]) == "no");
  }
  SECTION("en-10k qa1: as Keras's babi_memnn, vocabulary 22 (with padding), story 68, query 4") {
    Loaded l(
        {d + "qa1_single-supporting-fact_train.txt", d + "qa1_single-supporting-fact_test.txt"});
    REQUIRE(l.rc == 0);
    CHECK(l.vocab.size == 22);
    CHECK(l.story == 68);
    CHECK(l.question == 4);
    CHECK(l.sets[0].n == 10000);
    CHECK(l.sets[1].n == 1000);
    CHECK(l.question_of(0, 0) == "where is mary ?");
    CHECK(std::string(l.vocab.tokens[l.sets[0].answer[0]]) == "bathroom");
  }
}

TEST_CASE("babi masked-token data: proportion, ids, padding, seeds, redraws",
          "[runtime][babi][masked]") {
  std::string d = std::string(NNC_SOURCE_DIR) + "/examples/qa/data/";
  Loaded l({d + "train_qa.jsonl"});
  REQUIRE(l.rc == 0);
  nnrt_error err{};
  int32_t mask = -1;
  const int32_t words = l.vocab.size; // ids before the mask token
  REQUIRE(nnrt_vocab_append(&l.vocab, "[mask]", &mask, &err) == 0);
  CHECK(mask == words);
  CHECK(l.vocab.size == words + 1);
  CHECK(nnrt_vocab_id(&l.vocab, "[mask]", 6) == mask);
  CHECK(nnrt_vocab_id(&l.vocab, "yes", 3) > 0); // the other ids are unchanged
  CHECK(nnrt_vocab_append(&l.vocab, "[mask]", &mask, &err) == 1);

  const int64_t S = 156, Q = 6, L = S + Q;
  nnrt_dataset clean{}, a{}, b{};
  REQUIRE(nnrt_babi_masked_dataset(&l.sets[0], S, Q, &clean, &err) == 0);
  REQUIRE(nnrt_babi_masked_dataset(&l.sets[0], S, Q, &a, &err) == 0);
  REQUIRE(nnrt_babi_masked_dataset(&l.sets[0], S, Q, &b, &err) == 0);
  REQUIRE(clean.num_fields == 3);
  CHECK(clean.fields[2].size == L);
  auto at = [&](const nnrt_dataset &ds, int64_t r, int64_t p) {
    return p < S ? ((const int32_t *)ds.fields[0].data)[r * S + p]
                 : ((const int32_t *)ds.fields[1].data)[r * Q + p - S];
  };
  auto label = [&](const nnrt_dataset &ds, int64_t r, int64_t p) {
    return ((const int32_t *)ds.fields[2].data)[r * L + p];
  };
  for (int64_t p = 0; p < L; p++)
    CHECK(label(clean, 0, p) == -1); // nothing masked before a draw

  REQUIRE(nnrt_babi_mask(&a, mask, 0.15, 7, &err) == 0);
  int64_t tokens = 0, chosen = 0, masked = 0, random = 0, kept = 0, rowsOff = 0;
  for (int64_t r = 0; r < a.n; r++) {
    int64_t n = 0, k = 0;
    for (int64_t p = 0; p < L; p++) {
      int32_t orig = at(clean, r, p), x = at(a, r, p), y = label(a, r, p);
      n += orig != 0;
      if (orig == 0) { // padding: never chosen, never changed
        CHECK(y == -1);
        CHECK(x == 0);
        continue;
      }
      if (y < 0) {
        if (x != orig)
          FAIL("an unchosen position changed");
        continue;
      }
      k++;
      CHECK(y == orig); // the label is the original id
      if (x == mask)
        masked++;
      else if (x == orig)
        kept++;
      else {
        random++;
        CHECK(x >= 1);
        CHECK(x < mask);
      }
    }
    tokens += n;
    chosen += k;
    int64_t want = std::max<int64_t>(1, int64_t(0.15 * double(n) + 0.5));
    rowsOff += k != want;
  }
  CHECK(rowsOff == 0); // exactly round(15%) per example, at least one
  double frac = double(chosen) / double(tokens);
  CHECK(frac > 0.145);
  CHECK(frac < 0.155);
  // BERT's 80/10/10 (a random id may equal the original: counted as kept).
  CHECK(double(masked) / double(chosen) == Approx(0.8).margin(0.02));
  CHECK(double(random) / double(chosen) == Approx(0.1).margin(0.02));
  CHECK(double(kept) / double(chosen) == Approx(0.1).margin(0.02));

  // The same seed gives the same draw; another seed, or a redraw over the
  // masked data, another one, and a redraw first restores the originals.
  REQUIRE(nnrt_babi_mask(&b, mask, 0.15, 7, &err) == 0);
  for (int f = 0; f < 3; f++)
    CHECK(std::memcmp(a.fields[f].data, b.fields[f].data, size_t(a.n * a.fields[f].size) * 4) == 0);
  REQUIRE(nnrt_babi_mask(&b, mask, 0.15, 8, &err) == 0);
  CHECK(std::memcmp(a.fields[2].data, b.fields[2].data, size_t(a.n * L) * 4) != 0);
  REQUIRE(nnrt_babi_mask(&b, mask, 0.15, 7, &err) == 0); // back to seed 7, from a masked state
  for (int f = 0; f < 3; f++)
    CHECK(std::memcmp(a.fields[f].data, b.fields[f].data, size_t(a.n * a.fields[f].size) * 4) == 0);

  CHECK(nnrt_babi_mask(&a, mask, 0, 7, &err) == 1);
  CHECK(std::string(err.msg).find("mask rate") != std::string::npos);
  CHECK(nnrt_babi_mask(&clean, mask, 0.15, 7, &err) == 0);
  nnrt_dataset qa{};
  REQUIRE(nnrt_babi_dataset(&l.sets[0], S, Q, &qa, &err) == 0);
  CHECK(nnrt_babi_mask(&qa, mask, 0.15, 7, &err) == 1); // not masked-token data
  for (nnrt_dataset *ds : {&clean, &a, &b, &qa})
    nnrt_dataset_free(ds);
}
