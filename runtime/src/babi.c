/* babi.c: bAbI question-answering data (the original task files and the
 * course's JSON lines), one vocabulary over train and test, padded
 * datasets, and the check that a model takes (story, question) -> answer. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- growable arrays ---- */

static int grow(void **p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return 0;
  int64_t c = *cap ? *cap * 2 : 1024;
  while (c < need) c *= 2;
  void *q = realloc(*p, (size_t)c * elem);
  if (!q) return 1;
  *p = q;
  *cap = c;
  return 0;
}

/* Capacities of a set's arrays while it is being read. */
typedef struct {
  int64_t examples, story, question;
} caps;

void nnrt_babi_set_free(nnrt_babi_set *s) {
  if (!s) return;
  free(s->path);
  free(s->story_start);
  free(s->question_start);
  free(s->line);
  free(s->story_len);
  free(s->question_len);
  free(s->answer);
  free(s->story_ids);
  free(s->question_ids);
  memset(s, 0, sizeof *s);
}

/* The reader of one file: tokens are interned into `words` (ids in order of
 * first occurrence) and mapped to vocabulary ids once every file is read. */
typedef struct {
  nnrt_babi_set *set;
  caps cap;
  nnrt__strset *words;
  const char *path;
  int64_t line;
  nnrt_error *err;
} reader;

static int oom(reader *r) { return nnrt__fail(r->err, "out of memory reading '%s'", r->path); }

/* Tokenizes text (lower-cased, bAbI rules) onto the story or question ids. */
static int add_tokens(reader *r, const char *text, size_t len, int question) {
  nnrt_babi_set *s = r->set;
  size_t n;
  char *low = nnrt__lower(text, len, &n);
  if (!low) return oom(r);
  size_t pos = 0, tl;
  const char *t;
  while ((tl = nnrt__babi_next(low, n, &pos, &t)) > 0) {
    int32_t id;
    int64_t *count = question ? &s->num_question_ids : &s->num_story_ids;
    int32_t **ids = question ? &s->question_ids : &s->story_ids;
    if (nnrt__strset_add(r->words, t, tl, &id) ||
        grow((void **)ids, question ? &r->cap.question : &r->cap.story, *count + 1,
             sizeof(int32_t))) {
      free(low);
      return oom(r);
    }
    (*ids)[(*count)++] = id;
  }
  free(low);
  return 0;
}

/* Appends an example: the story ids from story_begin to the end of
 * story_ids, the question ids from question_begin, and the answer (one
 * token, stripped and lower-cased, commas and all). */
static int add_example(reader *r, int64_t story_begin, int64_t question_begin, const char *answer,
                       size_t alen) {
  nnrt_babi_set *s = r->set;
  while (alen && (*answer == ' ' || *answer == '\t')) answer++, alen--;
  while (alen && (answer[alen - 1] == ' ' || answer[alen - 1] == '\t')) alen--;
  if (alen == 0)
    return nnrt__fail(r->err, "%s:%lld: the answer is empty", r->path, (long long)r->line);
  int64_t qlen = s->num_question_ids - question_begin, slen = s->num_story_ids - story_begin;
  if (qlen == 0)
    return nnrt__fail(r->err, "%s:%lld: the question has no words", r->path, (long long)r->line);
  if (slen > INT32_MAX || qlen > INT32_MAX)
    return nnrt__fail(r->err, "%s:%lld: the story is too long", r->path, (long long)r->line);
  size_t n;
  char *low = nnrt__lower(answer, alen, &n);
  int32_t id;
  int64_t k = s->n, c = r->cap.examples;
  int bad = !low || nnrt__strset_add(r->words, low, n, &id);
  free(low);
  bad = bad || grow((void **)&s->story_start, &c, k + 1, sizeof(int64_t));
  c = r->cap.examples;
  bad = bad || grow((void **)&s->question_start, &c, k + 1, sizeof(int64_t));
  c = r->cap.examples;
  bad = bad || grow((void **)&s->line, &c, k + 1, sizeof(int64_t));
  c = r->cap.examples;
  bad = bad || grow((void **)&s->story_len, &c, k + 1, sizeof(int32_t));
  c = r->cap.examples;
  bad = bad || grow((void **)&s->question_len, &c, k + 1, sizeof(int32_t));
  c = r->cap.examples;
  bad = bad || grow((void **)&s->answer, &c, k + 1, sizeof(int32_t));
  if (bad) return oom(r);
  r->cap.examples = c;
  s->story_start[k] = story_begin;
  s->story_len[k] = (int32_t)slen;
  s->question_start[k] = question_begin;
  s->question_len[k] = (int32_t)qlen;
  s->answer[k] = id;
  s->line[k] = r->line;
  if (slen > s->max_story) s->max_story = slen;
  if (qlen > s->max_question) s->max_question = qlen;
  s->n++;
  return 0;
}

/* Line [p, end) of the file without its "\r". */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *line_len) {
  const char *p = text + *pos, *nl = memchr(p, '\n', len - *pos);
  size_t n = nl ? (size_t)(nl - p) : len - *pos;
  *pos += n + (nl != NULL);
  if (n && p[n - 1] == '\r') n--;
  *line_len = n;
  return p;
}

static int blank(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\t') return 0;
  return 1;
}

/* Original bAbI, as Keras's babi_memnn parse_stories: a question's story is
 * every sentence since the last ID 1; questions are not part of it. */
static int read_babi(reader *r, const char *text, size_t len) {
  nnrt_babi_set *s = r->set;
  size_t pos = 0, n;
  int64_t story_begin = -1;
  while (pos < len) {
    const char *p = next_line(text, len, &pos, &n);
    r->line++;
    if (blank(p, n)) continue;
    size_t i = 0;
    long long id = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && id < 1000000000) id = id * 10 + (p[i++] - '0');
    if (i == 0 || i == n || p[i] != ' ')
      return nnrt__fail(
          r->err,
          "%s:%lld: expected 'ID sentence' or 'ID question?<TAB>answer<TAB>supporting fact IDs' "
          "(a number, a space, the text)",
          r->path, (long long)r->line);
    if (id == 1)
      story_begin = s->num_story_ids;
    else if (story_begin < 0)
      return nnrt__fail(r->err,
                        "%s:%lld: the first story starts with ID %lld; a story starts with ID 1",
                        r->path, (long long)r->line, id);
    const char *body = p + i + 1, *end = p + n;
    const char *tab = memchr(body, '\t', (size_t)(end - body));
    if (!tab) {
      if (add_tokens(r, body, (size_t)(end - body), 0)) return 1;
      continue;
    }
    const char *answer = tab + 1, *tab2 = memchr(answer, '\t', (size_t)(end - answer));
    const char *aend = tab2 ? tab2 : end;
    if (tab2 && memchr(tab2 + 1, '\t', (size_t)(end - tab2 - 1)))
      return nnrt__fail(
          r->err,
          "%s:%lld: expected 'ID question?<TAB>answer<TAB>supporting fact IDs', found more than "
          "two tabs",
          r->path, (long long)r->line);
    int64_t question_begin = s->num_question_ids;
    if (add_tokens(r, body, (size_t)(tab - body), 1) ||
        add_example(r, story_begin, question_begin, answer, (size_t)(aend - answer)))
      return 1;
  }
  return 0;
}

/* A JSON list of strings (tokens; each is tokenized again, so "room." in a
 * hand-written file still becomes "room" and "."). */
static int json_tokens(reader *r, const nnrt__json *obj, const char *key, int question) {
  const nnrt__json *a = nnrt__json_get(obj, key);
  if (!a || a->type != NNRT__J_ARR)
    return nnrt__fail(
        r->err,
        "%s:%lld: expected {\"story\": [tokens], \"question\": [tokens], \"answer\": \"token\"}: "
        "'%s' is %s",
        r->path, (long long)r->line, key, a ? "not a list" : "missing");
  for (int i = 0; i < a->n; i++) {
    const nnrt__json *t = &a->kids[i];
    if (t->type != NNRT__J_STR)
      return nnrt__fail(r->err, "%s:%lld: '%s' item %d is not a string", r->path,
                        (long long)r->line, key, i);
    if (add_tokens(r, t->str, strlen(t->str), question)) return 1;
  }
  return 0;
}

static int read_jsonl(reader *r, const char *text, size_t len) {
  nnrt_babi_set *s = r->set;
  size_t pos = 0, n;
  while (pos < len) {
    const char *p = next_line(text, len, &pos, &n);
    r->line++;
    if (blank(p, n)) continue;
    nnrt__json j = {0};
    if (nnrt__json_parse(p, n, &j, r->err)) {
      nnrt__prefix(r->err, "%s:%lld", r->path, (long long)r->line);
      return 1;
    }
    int64_t story_begin = s->num_story_ids, question_begin = s->num_question_ids;
    const nnrt__json *ans = nnrt__json_get(&j, "answer");
    int rc = 0;
    if (j.type != NNRT__J_OBJ)
      rc = nnrt__fail(
          r->err,
          "%s:%lld: expected an object {\"story\": [tokens], \"question\": [tokens], \"answer\": "
          "\"token\"}",
          r->path, (long long)r->line);
    else if (!ans || ans->type != NNRT__J_STR)
      rc = nnrt__fail(r->err, "%s:%lld: 'answer' is %s, expected a string such as \"yes\"", r->path,
                      (long long)r->line, ans ? "not a string" : "missing");
    else
      rc = json_tokens(r, &j, "story", 0) || json_tokens(r, &j, "question", 1) ||
           add_example(r, story_begin, question_begin, ans->str, strlen(ans->str));
    nnrt__json_free(&j);
    if (rc) return 1;
  }
  return 0;
}

static int read_file(reader *r) {
  char *text;
  size_t len;
  if (nnrt_text_load(r->path, &text, &len, r->err)) return 1;
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) i++;
  int rc = i < len && text[i] == '{' ? read_jsonl(r, text, len) : read_babi(r, text, len);
  free(text);
  if (!rc && r->set->n == 0) rc = nnrt__fail(r->err, "%s: no questions in the file", r->path);
  return rc;
}

typedef struct {
  const char *key;
  int32_t local;
} entry;

static int by_key(const void *a, const void *b) {
  return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

/* Sorted vocabulary of the interned words; local ids -> vocabulary ids. */
static int make_vocab(nnrt__strset *words, nnrt_vocab *v, int32_t **map, nnrt_error *err) {
  int32_t n = words->n;
  entry *e = malloc((size_t)n * sizeof *e + 1);
  char **tokens = calloc((size_t)n + 1, sizeof *tokens);
  *map = malloc((size_t)n * sizeof **map + 1);
  if (!e || !tokens || !*map || !(tokens[0] = nnrt__strdup(""))) {
    free(e);
    free(tokens);
    free(*map);
    *map = NULL;
    return nnrt__fail(err, "out of memory");
  }
  for (int32_t i = 0; i < n; i++) e[i] = (entry){words->keys[i], i};
  qsort(e, (size_t)n, sizeof *e, by_key);
  for (int32_t i = 0; i < n; i++) {
    tokens[i + 1] = words->keys[e[i].local]; /* take ownership */
    words->keys[e[i].local] = NULL;
    (*map)[e[i].local] = i + 1;
  }
  free(e);
  return nnrt_vocab_from_tokens(v, NNRT_TOKENS_BABI, tokens, n + 1, err);
}

int nnrt_babi_load(const char *const *paths, int num_paths, nnrt_babi_set *sets, nnrt_vocab *vocab,
                   int64_t *story_len, int64_t *question_len, nnrt_error *err) {
  memset(vocab, 0, sizeof *vocab);
  for (int f = 0; f < num_paths; f++) memset(&sets[f], 0, sizeof sets[f]);
  if (num_paths <= 0) return nnrt__fail(err, "no bAbI files given");
  nnrt__strset words = {0};
  int rc = 0;
  for (int f = 0; f < num_paths && !rc; f++) {
    reader r = {&sets[f], {0, 0, 0}, &words, paths[f], 0, err};
    if (!(sets[f].path = nnrt__strdup(paths[f])))
      rc = nnrt__fail(err, "out of memory");
    else
      rc = read_file(&r);
  }
  int32_t *map = NULL;
  if (!rc) rc = make_vocab(&words, vocab, &map, err);
  nnrt__strset_free(&words);
  if (rc) {
    for (int f = 0; f < num_paths; f++) nnrt_babi_set_free(&sets[f]);
    nnrt_vocab_free(vocab);
    free(map);
    return 1;
  }
  int64_t ms = 0, mq = 0;
  for (int f = 0; f < num_paths; f++) {
    nnrt_babi_set *s = &sets[f];
    for (int64_t i = 0; i < s->num_story_ids; i++) s->story_ids[i] = map[s->story_ids[i]];
    for (int64_t i = 0; i < s->num_question_ids; i++) s->question_ids[i] = map[s->question_ids[i]];
    for (int64_t i = 0; i < s->n; i++) s->answer[i] = map[s->answer[i]];
    if (s->max_story > ms) ms = s->max_story;
    if (s->max_question > mq) mq = s->max_question;
  }
  free(map);
  if (story_len) *story_len = ms;
  if (question_len) *question_len = mq;
  return 0;
}

int nnrt_pad_ids(const int32_t *ids, int64_t n, int64_t len, int32_t *out) {
  if (n > len || n < 0) return 1;
  memset(out, 0, (size_t)(len - n) * sizeof *out);
  if (n) memcpy(out + (len - n), ids, (size_t)n * sizeof *out);
  return 0;
}

int nnrt_babi_dataset(const nnrt_babi_set *s, int64_t story_len, int64_t question_len,
                      nnrt_dataset *out, nnrt_error *err) {
  memset(out, 0, sizeof *out);
  if (story_len <= 0 || question_len <= 0)
    return nnrt__fail(err, "story and question lengths must be positive, got %lld and %lld",
                      (long long)story_len, (long long)question_len);
  int32_t dtypes[3] = {NNRT_I32, NNRT_I32, NNRT_I32};
  int64_t sizes[3] = {story_len, question_len, 1};
  if (nnrt_dataset_alloc(out, s->n, 3, dtypes, sizes, err)) return 1;
  int32_t *x = out->fields[0].data, *q = out->fields[1].data, *y = out->fields[2].data;
  for (int64_t i = 0; i < s->n; i++) {
    int too_long = 0;
    const char *what = "story";
    int64_t have = s->story_len[i], max = story_len, longest = s->max_story;
    /* a set without any story (or question) token has no ids array */
    const int32_t *story = have ? s->story_ids + s->story_start[i] : NULL;
    const int32_t *question = s->question_len[i] ? s->question_ids + s->question_start[i] : NULL;
    if (nnrt_pad_ids(story, have, story_len, x + i * story_len))
      too_long = 1;
    else if (nnrt_pad_ids(question, s->question_len[i], question_len, q + i * question_len)) {
      too_long = 1;
      what = "question";
      have = s->question_len[i], max = question_len, longest = s->max_question;
    }
    if (too_long) {
      nnrt_dataset_free(out);
      return nnrt__fail(
          err,
          "%s:%lld: the %s has %lld tokens, more than the model's %s length %lld (the longest %s "
          "in this file has %lld): make the model's %s input at least that long",
          s->path, (long long)s->line[i], what, (long long)have, what, (long long)max, what,
          (long long)longest, what);
    }
    y[i] = s->answer[i];
  }
  return 0;
}

static const char *dtype_word(int32_t dtype) { return dtype == NNRT_I32 ? "int" : "float"; }

static int check_model(const nnrt_model *m, int masked, int64_t *story_len, int64_t *question_len,
                       nnrt_error *err) {
  if (nnrt_model_check(m, err)) return 1;
  int first_in = -1, first_tg = -1;
  int nin = nnrt_model_count(m, NNRT_INPUT, &first_in),
      ntg = nnrt_model_count(m, NNRT_TARGET, &first_tg);
  if (nin != 2)
    return nnrt__fail(
        err,
        "model '%s' has %d input%s; bAbI data needs two: the story (int[S]) and the question "
        "(int[Q])",
        m->name, nin, nin == 1 ? "" : "s");
  for (int k = 0; k < 2; k++) {
    const nnrt_tensor_info *t = &m->tensors[first_in + k];
    if (t->dtype != NNRT_I32 || t->rank != 1)
      return nnrt__fail(err,
                        "model '%s': bAbI data gives the %s as token ids, so input '%s' must be "
                        "int[N], not %s of rank %d",
                        m->name, k ? "question" : "story", t->name, dtype_word(t->dtype), t->rank);
  }
  int64_t want = masked ? m->tensors[first_in].size + m->tensors[first_in + 1].size : 1;
  if (ntg != 1 || m->tensors[first_tg].dtype != NNRT_I32 || m->tensors[first_tg].size != want) {
    if (masked)
      return nnrt__fail(
          err,
          "model '%s': masked-token bAbI data gives a label per position of [story; question], "
          "so the model needs one target 'int[%lld]' (story + question)",
          m->name, (long long)want);
    return nnrt__fail(
        err,
        "model '%s': bAbI data gives one answer id per example, so the model needs one target "
        "'int' (it has %d target%s%s)",
        m->name, ntg, ntg == 1 ? "" : "s", ntg == 1 ? ", not an int scalar" : "");
  }
  if (story_len) *story_len = m->tensors[first_in].size;
  if (question_len) *question_len = m->tensors[first_in + 1].size;
  return 0;
}

int nnrt_babi_check_model(const nnrt_model *m, int64_t *story_len, int64_t *question_len,
                          nnrt_error *err) {
  return check_model(m, 0, story_len, question_len, err);
}

int nnrt_babi_check_masked_model(const nnrt_model *m, int64_t *story_len, int64_t *question_len,
                                 nnrt_error *err) {
  return check_model(m, 1, story_len, question_len, err);
}

/* ---- masked-token data (BERT's pretraining task) ---- */

int nnrt_vocab_append(nnrt_vocab *v, const char *token, int32_t *id, nnrt_error *err) {
  if (v->size <= 0 || v->size == INT32_MAX)
    return nnrt__fail(err, "cannot add '%s' to the vocabulary", token);
  if (nnrt_vocab_id(v, token, strlen(token)) >= 0)
    return nnrt__fail(err, "'%s' is already in the vocabulary", token);
  int n = v->size, kind = v->kind;
  char **tokens = calloc((size_t)n + 2, sizeof *tokens);
  if (!tokens) return nnrt__fail(err, "out of memory");
  int bad = 0;
  for (int i = 0; i < n && !bad; i++) bad = !(tokens[i] = nnrt__strdup(v->tokens[i]));
  if (bad || !(tokens[n] = nnrt__strdup(token))) {
    nnrt_free_strings(tokens, n + 1);
    return nnrt__fail(err, "out of memory");
  }
  nnrt_vocab_free(v);
  if (nnrt_vocab_from_tokens(v, kind, tokens, n + 1, err)) return 1;
  *id = n;
  return 0;
}

int nnrt_babi_masked_dataset(const nnrt_babi_set *s, int64_t story_len, int64_t question_len,
                             nnrt_dataset *out, nnrt_error *err) {
  nnrt_dataset qa;
  memset(out, 0, sizeof *out);
  if (nnrt_babi_dataset(s, story_len, question_len, &qa, err)) return 1;
  int32_t dtypes[3] = {NNRT_I32, NNRT_I32, NNRT_I32};
  int64_t sizes[3] = {story_len, question_len, story_len + question_len};
  if (nnrt_dataset_alloc(out, s->n, 3, dtypes, sizes, err)) {
    nnrt_dataset_free(&qa);
    return 1;
  }
  memcpy(out->fields[0].data, qa.fields[0].data, (size_t)(s->n * story_len) * sizeof(int32_t));
  memcpy(out->fields[1].data, qa.fields[1].data, (size_t)(s->n * question_len) * sizeof(int32_t));
  int32_t *y = out->fields[2].data;
  for (int64_t i = 0; i < s->n * (story_len + question_len); i++) y[i] = -1;
  nnrt_dataset_free(&qa);
  return 0;
}

/* Position p of row r's [story; question] sequence, in the input fields. */
static int32_t *seq_at(nnrt_dataset *d, int64_t r, int64_t p) {
  int64_t S = d->fields[0].size, Q = d->fields[1].size;
  return p < S ? (int32_t *)d->fields[0].data + r * S + p
               : (int32_t *)d->fields[1].data + r * Q + (p - S);
}

int nnrt_babi_mask(nnrt_dataset *d, int32_t mask_id, double rate, uint64_t seed, nnrt_error *err) {
  if (d->num_fields < 3 || d->fields[2].size != d->fields[0].size + d->fields[1].size)
    return nnrt__fail(err,
                      "masked-token data needs fields story[S], question[Q] and labels[S + Q]");
  if (!(rate > 0 && rate <= 1))
    return nnrt__fail(err, "the mask rate must be in (0, 1], got %g", rate);
  if (mask_id < 2)
    return nnrt__fail(err, "the mask id %d leaves no word ids for random replacements",
                      (int)mask_id);
  int64_t L = d->fields[2].size;
  int64_t *pos = malloc((size_t)L * sizeof *pos + 1);
  if (!pos) return nnrt__fail(err, "out of memory");
  nnrt_rng rng;
  nnrt_rng_seed(&rng, seed);
  for (int64_t r = 0; r < d->n; r++) {
    int32_t *y = (int32_t *)d->fields[2].data + r * L;
    int64_t n = 0;
    for (int64_t p = 0; p < L; p++) {
      int32_t *x = seq_at(d, r, p);
      if (y[p] >= 0) *x = y[p]; /* undo the last draw */
      y[p] = -1;
      if (*x != 0) pos[n++] = p; /* padding is never masked */
    }
    if (n == 0) continue;
    /* A fixed count (at least one) rather than a coin per token: every
     * example contributes to the loss, and the proportion is exact. */
    int64_t k = (int64_t)(rate * (double)n + 0.5);
    if (k < 1) k = 1;
    for (int64_t i = 0; i < k; i++) { /* the first k of a Fisher-Yates shuffle */
      int64_t j = i + (int64_t)nnrt_rng_below(&rng, (uint64_t)(n - i));
      int64_t t = pos[i];
      pos[i] = pos[j];
      pos[j] = t;
      int32_t *x = seq_at(d, r, pos[i]);
      y[pos[i]] = *x;
      /* BERT's 80/10/10: the mask token, a random word, or the word itself
       * (so that the model cannot assume an unmasked token is right). */
      double u = nnrt_rng_uniform(&rng);
      if (u < 0.8)
        *x = mask_id;
      else if (u < 0.9)
        *x = 1 + (int32_t)nnrt_rng_below(&rng, (uint64_t)(mask_id - 1));
    }
  }
  free(pos);
  return 0;
}
