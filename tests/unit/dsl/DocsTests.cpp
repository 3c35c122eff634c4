// Every ```nn block of docs/language.md is a complete, valid file.
#include "DslTestUtil.h"

#include <fstream>

using namespace nnc::dsl;
using namespace nnc::dsl::test;

TEST_CASE("the examples of docs/language.md build", "[dsl][docs]") {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/docs/language.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  int blocks = 0;
  for (size_t pos = doc.find("```nn\n"); pos != std::string::npos; pos = doc.find("```nn\n", pos)) {
    pos += 6;
    size_t end = doc.find("```", pos);
    REQUIRE(end != std::string::npos);
    std::string src = doc.substr(pos, end - pos);
    auto r = buildSource(src, "", "docs/example.nn");
    INFO(src);
    INFO(r.output);
    CHECK(r.graph);
    ++blocks;
    pos = end + 3;
  }
  CHECK(blocks >= 3);
}
