/* ckpt_diff A.safetensors B.safetensors RTOL [ATOL]: compares the float32
 * tensors two checkpoints share by name (parameters and optimizer state):
 * each tensor's largest difference must be at most RTOL times its largest
 * magnitude plus ATOL (default 1e-7: a tensor whose gradient is 0 in exact
 * arithmetic, as an attention's key bias, holds only rounding noise of
 * about 1e-10, which no two summation orders reproduce). Prints one line
 * per tensor out of tolerance ("FAIL ...") and a summary; exit 0 when every
 * tensor of A is in B and within tolerance, 1 otherwise. For the
 * end-to-end tests (data-parallel training against one process): no
 * dependency but libc, and only the part of the safetensors format nnc
 * writes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *header; /* JSON, NUL-terminated */
  const unsigned char *data;
  unsigned char *file;
  size_t size;
} ckpt;

static int load(const char *path, ckpt *c) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return fprintf(stderr, "ckpt_diff: cannot open %s\n", path), 1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  c->file = malloc((size_t)n + 1);
  if (!c->file || n < 8 || fread(c->file, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    return fprintf(stderr, "ckpt_diff: cannot read %s\n", path), 1;
  }
  fclose(f);
  uint64_t hlen = 0;
  memcpy(&hlen, c->file, 8);
  if (hlen > (uint64_t)n - 8)
    return fprintf(stderr, "ckpt_diff: bad header in %s\n", path), 1;
  c->header = malloc(hlen + 1);
  memcpy(c->header, c->file + 8, hlen);
  c->header[hlen] = 0;
  c->data = c->file + 8 + hlen;
  c->size = (size_t)n - 8 - hlen;
  return 0;
}

/* The entry `"name":{..."data_offsets":[s,e]}` of c: 0 and its offsets. */
static int find(const ckpt *c, const char *name, size_t *s, size_t *e) {
  char key[512];
  snprintf(key, sizeof key, "\"%s\":{", name);
  const char *at = strstr(c->header, key);
  if (!at)
    return 1;
  const char *d = strstr(at, "\"data_offsets\":[");
  if (!d || sscanf(d, "\"data_offsets\":[%zu,%zu]", s, e) != 2 || *e > c->size || *s > *e)
    return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5)
    return fprintf(stderr, "usage: ckpt_diff A B RTOL [ATOL]\n"), 2;
  ckpt a = {0}, b = {0};
  if (load(argv[1], &a) || load(argv[2], &b))
    return 1;
  double tol = atof(argv[3]), atol = argc == 5 ? atof(argv[4]) : 1e-7, worst = 0;
  int tensors = 0, bad = 0;
  /* Every `"name":{"dtype":"F32"` of A. */
  for (const char *p = a.header; (p = strstr(p, "\":{\"dtype\":\"F32\"")) != NULL; p++) {
    const char *q = p;
    while (q > a.header && q[-1] != '"')
      q--;
    char name[512];
    size_t len = (size_t)(p - q) < sizeof name - 1 ? (size_t)(p - q) : sizeof name - 1;
    memcpy(name, q, len);
    name[len] = 0;
    size_t as, ae, bs, be;
    if (find(&a, name, &as, &ae))
      continue;
    tensors++;
    if (find(&b, name, &bs, &be) || be - bs != ae - as) {
      printf("FAIL %s: missing or of another size in %s\n", name, argv[2]);
      bad++;
      continue;
    }
    const float *x = (const float *)(a.data + as), *y = (const float *)(b.data + bs);
    double maxabs = 0, maxdiff = 0;
    for (size_t i = 0; i < (ae - as) / 4; i++) {
      maxabs = fmax(maxabs, fabs(x[i]));
      maxdiff = fmax(maxdiff, fabs((double)x[i] - (double)y[i]));
    }
    double rel = maxabs > 0 ? maxdiff / maxabs : maxdiff;
    if (maxabs > atol / tol && rel > worst)
      worst = rel;
    if (!(maxdiff <= tol * maxabs + atol)) {
      printf("FAIL %s: differs by %.3g (%.3g of its largest value; tolerance %g of it + %g)\n",
             name, maxdiff, rel, tol, atol);
      bad++;
    }
  }
  printf("ckpt_diff: %d tensors, largest relative difference %.3g (tensors above %g)\n", tensors,
         worst, atol / tol);
  free(a.header), free(a.file), free(b.header), free(b.file);
  return bad || tensors == 0;
}
