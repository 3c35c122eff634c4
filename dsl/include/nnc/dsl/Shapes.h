// Shapes.h: the shape rules that the front end's checker and the nn
// dialect's verifiers share. Both include this header (it needs nothing but
// the standard library, so the dialect does not depend on the front end's
// library), so a .nn model the checker accepts is one the verifiers accept,
// and a change of rule is made once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nnc::dsl {

// A shape as a view (the checker holds std::vector, the dialect ArrayRef).
struct ShapeRef {
  const int64_t *data = nullptr;
  size_t size = 0;
  ShapeRef(const std::vector<int64_t> &v) : data(v.data()), size(v.size()) {}
  ShapeRef(const int64_t *d, size_t n) : data(d), size(n) {}
  // Dimension i counted from the right (0 is the last); missing leading
  // dimensions are 1.
  int64_t fromRight(size_t i) const { return i < size ? data[size - 1 - i] : 1; }
};

// The numpy broadcast of `a` and `b` (trailing dimensions aligned; a
// dimension of size 1, or a missing leading one, stretches) into `out`.
// Returns false when they do not broadcast, with `badA` and `badB` (when
// given) the first pair of sizes, from the right, that differ.
inline bool broadcastShapes(ShapeRef a, ShapeRef b, std::vector<int64_t> &out,
                            int64_t *badA = nullptr, int64_t *badB = nullptr) {
  size_t r = std::max(a.size, b.size);
  out.assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = a.fromRight(i), db = b.fromRight(i);
    if (da != db && da != 1 && db != 1) {
      if (badA)
        *badA = da;
      if (badB)
        *badB = db;
      return false;
    }
    out[r - 1 - i] = da == 1 ? db : da;
  }
  return true;
}

// `from` broadcasts to `to` unchanged: no more dimensions, and each is 1 or
// `to`'s (from the right).
inline bool broadcastsTo(ShapeRef from, ShapeRef to) {
  if (from.size > to.size)
    return false;
  for (size_t i = 0; i < from.size; ++i)
    if (from.fromRight(i) != 1 && from.fromRight(i) != to.fromRight(i))
      return false;
  return true;
}

} // namespace nnc::dsl
