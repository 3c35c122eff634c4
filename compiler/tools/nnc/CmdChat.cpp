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

  void ask(int line, const std::string &question) {
    if (trim(story).empty()) {
      error(line, "there is no story to ask about: first tell one (sentences such as 'Mary "
                  "moved to the bathroom.'), then ask a question ending with '?'");
      return;
    }
    nnrt_answer ans{};
    nnrt_error e{};
    if (nnrt_babi_answer(m, params, vocab, story.c_str(), question.c_str(), &ans, &e)) {
      std::string where = ans.story_tokens > storyLen
                              ? " (the story started on line " + std::to_string(storyLine) + ")"
                              : "";
      error(line, e.msg + where + "; the question is skipped (an empty line starts a new story)");
      return;
    }
    if (ans.question_cut) {
      // As the course's chat bot: "Is the football in the garden?" still
      // gets an answer.
      std::fflush(stdout);
      std::fprintf(stderr,
                   "nnc: note: <stdin>:%d: the question has %lld tokens, the model reads "
                   "the last %lld\n",
                   line, (long long)ans.question_tokens, (long long)questionLen);
    }
    std::printf("%s (%.2f)\n", ans.word, ans.prob);
    std::fflush(stdout);
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
    if (size_t start = nnrt_babi_question_start(text.c_str())) {
      if (chat.story.empty())
        chat.storyLine = line;
      chat.story += text.substr(0, start) + "\n";
      text = trim(text.substr(start));
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
