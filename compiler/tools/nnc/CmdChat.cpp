// CmdChat.cpp: nnc chat: questions about stories, for models trained on
// bAbI data.
#include "Driver.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <vector>

#include <unistd.h>

namespace nnc::tool {

namespace {

// The story and question read so far, and the model that answers.
struct Chat {
  const nnrt_model *m;
  const float *params;
  const nnrt_vocab *vocab;
  int64_t storyLen, questionLen;
  std::string story;
  int storyLine = 0; // where the story started (for messages)
  int errors = 0;

  void error(int line, const std::string &msg) {
    std::fflush(stdout);
    std::fprintf(stderr, "nnc: error: <stdin>:%d: %s\n", line, msg.c_str());
    errors++;
  }

  // Token ids of text, or an error naming the unknown words.
  bool encode(const std::string &text, std::vector<int32_t> &ids, std::string &msg) {
    nnrt_error e{};
    int32_t *p = nullptr;
    int64_t n = 0;
    if (nnrt_vocab_encode(vocab, text.data(), text.size(), &p, &n, &e)) {
      msg = e.msg;
      return false;
    }
    ids.assign(p, p + n);
    std::free(p);
    return true;
  }

  void ask(int line, const std::string &question) {
    if (trim(story).empty()) {
      error(line, "there is no story to ask about: first tell one (sentences such as 'Mary "
                  "moved to the bathroom.'), then ask a question ending with '?'");
      return;
    }
    std::vector<int32_t> s, q;
    std::string msg;
    // Story and question together, so one message names every unknown word.
    if (!encode(story + "\n" + question, s, msg)) {
      error(line, msg + "; the question is skipped (an empty line starts a new story)");
      return;
    }
    encode(story, s, msg);
    encode(question, q, msg);
    if (int64_t(s.size()) > storyLen) {
      error(line, "the story (from line " + std::to_string(storyLine) + ") has " +
                      std::to_string(s.size()) + " tokens, the model reads at most " +
                      std::to_string(storyLen) +
                      "; the question is skipped (an empty line "
                      "starts a new story)");
      return;
    }
    if (int64_t(q.size()) > questionLen) {
      // As the course's chat bot (Keras's pad_sequences truncates at the
      // front): "Is the football in the garden?" still gets an answer.
      std::fflush(stdout);
      std::fprintf(stderr,
                   "nnc: note: <stdin>:%d: the question has %zu tokens, the model reads "
                   "the last %lld\n",
                   line, q.size(), (long long)questionLen);
      q.erase(q.begin(), q.end() - questionLen);
    }
    nnrt_error e{};
    nnrt_dataset x{}, out{};
    int32_t dtypes[2] = {NNRT_I32, NNRT_I32};
    int64_t sizes[2] = {storyLen, questionLen};
    if (nnrt_dataset_alloc(&x, 1, 2, dtypes, sizes, &e) ||
        nnrt_pad_ids(s.data(), int64_t(s.size()), storyLen, (int32_t *)x.fields[0].data) ||
        nnrt_pad_ids(q.data(), int64_t(q.size()), questionLen, (int32_t *)x.fields[1].data) ||
        nnrt_predict(m, params, &x, &out, &e)) {
      error(line, e.msg);
      nnrt_dataset_free(&x);
      return;
    }
    // The most probable word; id 0 is padding, never an answer.
    const float *probs = (const float *)out.fields[0].data;
    int64_t k = std::min<int64_t>(out.fields[0].size, vocab->size);
    int64_t best = 1;
    for (int64_t i = 2; i < k; i++)
      if (probs[i] > probs[best])
        best = i;
    std::printf("%s (%.2f)\n", vocab->tokens[best], probs[best]);
    std::fflush(stdout);
    nnrt_dataset_free(&x);
    nnrt_dataset_free(&out);
  }
};

const char *kChatNoInput =
    "no input: give a story (one or more lines of sentences), then a question ending with "
    "'?', e.g. printf 'Mary moved to the bathroom.\\nIs Mary in the bathroom?\\n' | nnc chat "
    "MODEL.nn --checkpoint CKPT";

} // namespace

int cmdChat(const Args &a) {
  if (!a.has("checkpoint"))
    return fail("chat needs --checkpoint CKPT (written by nnc train --save with babi data)");
  // A pipe is read whole first, so empty input is refused before compiling;
  // a person at a terminal gets the model first, then the prompts.
  bool tty = isatty(fileno(stdin));
  std::vector<std::string> piped;
  if (!tty) {
    bool any = false;
    for (std::string l; std::getline(std::cin, l);) {
      any = any || !trim(l).empty();
      piped.push_back(l);
    }
    if (!any)
      return fail(kChatNoInput);
  }
  std::optional<dsl::Graph> g;
  // One question at a time; the parameters do not depend on the batch.
  auto tr = loadGraphAndTrained(a, g, 1);
  if (!tr)
    return 1;
  nnrt_error e{};
  Chat chat{tr->m, tr->params.data(), nullptr, 0, 0};
  if (nnrt_babi_check_model(tr->m, &chat.storyLen, &chat.questionLen, &e))
    return fail(e.msg);
  nnrt_vocab v{};
  const char *kind = nnrt_metadata_get(&tr->md, NNRT_META_TOKENS);
  if (kind && std::strcmp(kind, "babi") != 0)
    return fail(a.get("checkpoint") + " was not trained on bAbI data (its vocabulary is " + kind +
                "): nnc chat needs a model trained with 'data babi(...)'");
  if (nnrt_vocab_from_metadata(&v, &tr->md, &e))
    return fail(a.get("checkpoint") + ": " + e.msg);
  chat.vocab = &v;
  if (!checkVocabulary(tr->m, v, a.get("checkpoint"), e)) {
    nnrt_vocab_free(&v);
    return fail(e.msg);
  }

  if (tty)
    std::printf("Tell me a story, then ask a question about it ending with '?'.\n"
                "An empty line starts a new story; Ctrl-D ends.\n");
  std::string raw;
  int line = 0, questions = 0, storyLines = 0;
  for (;;) {
    if (tty) {
      std::fputs(chat.story.empty() ? "story> " : "> ", stdout);
      std::fflush(stdout);
    }
    if (tty ? !std::getline(std::cin, raw) : size_t(line) >= piped.size())
      break;
    if (!tty)
      raw = piped[line];
    line++;
    std::string text = trim(raw);
    if (text.empty()) {
      chat.story.clear();
      continue;
    }
    if (text.back() != '?') {
      if (chat.story.empty())
        chat.storyLine = line;
      chat.story += text + "\n";
      storyLines++;
      continue;
    }
    // "Mary went home. Is Mary in the garden?": the sentences before the
    // last one are more story.
    size_t end = text.size() < 2 ? std::string::npos : text.find_last_of(".!?", text.size() - 2);
    if (end != std::string::npos) {
      if (chat.story.empty())
        chat.storyLine = line;
      chat.story += text.substr(0, end + 1) + "\n";
      text = trim(text.substr(end + 1));
    }
    questions++;
    if (text.find_first_not_of(" \t?") == std::string::npos)
      chat.error(line, "the question has no words");
    else
      chat.ask(line, text);
  }
  if (tty)
    std::printf("\n");
  nnrt_vocab_free(&v);
  if (line == 0 || (questions == 0 && storyLines == 0))
    return fail(kChatNoInput);
  if (questions == 0)
    return fail("the input has a story but no question: a question is a line ending with '?'");
  return chat.errors ? 1 : 0;
}

} // namespace nnc::tool
