/* qa-app: answers questions about stories with the memory network of
 * memnet.nn, compiled into this program at build time: the answers
 * `nnc chat` gives for the same checkpoint and input (both ask through
 * nnrt_babi_answer).
 *
 *   qa-app CKPT < dialogue.txt
 *
 * CKPT: nnc train examples/qa/memnet.nn --save CKPT. Each input line is a
 * story sentence, or a question when it ends with '?' (answered as
 * "yes (0.97)"; sentences before it on its line are story); an empty line
 * starts a new story. Exit status 1 when a
 * question could not be answered (the reason goes to stderr). */
#include "memnet.h" /* generated: memnet_model */
#include "nnrt/nnrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *msg) {
  fprintf(stderr, "qa-app: error: %s\n", msg);
  return 1;
}

/* s without its leading and trailing blanks (in place). */
static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && strchr(" \t\r\n", s[n - 1]))
    s[--n] = 0;
  return s;
}

int main(int argc, char **argv) {
  if (argc != 2)
    return fail("usage: qa-app CKPT < dialogue.txt");
  const nnrt_model *m = &memnet_model;
  nnrt_error err = {0};
  float *params = nnrt_alloc_floats(m->num_params);
  nnrt_metadata md = {0};
  nnrt_vocab vocab = {0};
  if (!params)
    return fail("out of memory");
  if (nnrt_checkpoint_load(argv[1], m, params, NULL, NULL, &md, &err) ||
      nnrt_vocab_from_metadata(&vocab, &md, &err))
    return fail(err.msg);

  static char story[1 << 16], line[4096];
  size_t used = 0;
  int errors = 0, lineno = 0;
  while (fgets(line, sizeof line, stdin)) {
    lineno++;
    char *text = trim(line);
    size_t n = strlen(text);
    if (n == 0) {
      used = 0; /* a new story */
      story[0] = 0;
    } else if (text[n - 1] != '?') {
      if (used + n + 2 > sizeof story)
        return fail("the story is too long for this app");
      used += (size_t)snprintf(story + used, sizeof story - used, "%s\n", text);
    } else {
      /* "Mary went home. Is Mary in the garden?": the sentences before the
       * question are more story. */
      size_t q = nnrt_babi_question_start(text);
      if (used + q + 2 > sizeof story)
        return fail("the story is too long for this app");
      if (q > 0)
        used += (size_t)snprintf(story + used, sizeof story - used, "%.*s\n", (int)q, text);
      nnrt_answer a;
      if (nnrt_babi_answer(m, params, &vocab, story, trim(text + q), &a, &err)) {
        fprintf(stderr, "qa-app: error: line %d: %s\n", lineno, err.msg);
        errors++;
      } else {
        printf("%s (%.2f)\n", a.word, a.prob);
      }
    }
  }
  nnrt_vocab_free(&vocab);
  nnrt_metadata_free(&md);
  nnrt_free_floats(params);
  return errors ? 1 : 0;
}
