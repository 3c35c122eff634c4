#include "Reference.h"

#include <fstream>
#include <iostream>
#include <stdexcept>

namespace nnc::numtest {

Reference readReference(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  Reference out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    size_t colon = line.find(" : ");
    if (colon == std::string::npos)
      throw std::runtime_error("bad line in " + path + ": " + line.substr(0, 60));
    std::istringstream head(line.substr(0, colon)), vals(line.substr(colon + 3));
    std::string name;
    int rank = 0;
    head >> name >> rank;
    RefTensor t;
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) {
      int64_t d;
      head >> d;
      t.shape.push_back(d);
      n *= d;
    }
    double v;
    while (vals >> v)
      t.values.push_back(v);
    if (int64_t(t.values.size()) != n)
      throw std::runtime_error("wrong value count for " + name + " in " + path);
    out[name] = std::move(t);
  }
  return out;
}

const RefTensor &refTensor(const Reference &r, const std::string &name) {
  auto it = r.find(name);
  if (it == r.end())
    throw std::runtime_error("reference has no '" + name + "'");
  return it->second;
}

void Compare::log(const std::string &what, double rel, double scale) {
  std::cout << "  " << what << ": max |nnc - ref| / (|ref| + scale) " << rel << " (scale "
            << scale << ")\n";
}

} // namespace nnc::numtest
