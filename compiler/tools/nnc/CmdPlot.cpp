// CmdPlot.cpp: nnc plot METRICS.json -o CURVES.svg: the curves of the
// history nnc train --metrics-out wrote (Plot.h draws them).
#include "Driver.h"
#include "Plot.h"

#include "nnrt/nnrt.h"

#include <cstdlib>

namespace nnc::tool {

int cmdPlot(const Args &a) {
  if (a.file.empty())
    return fail("no metrics file given: nnc plot METRICS.json -o CURVES.svg (write one with nnc "
                "train --metrics-out METRICS.json)");
  std::string out = a.get("o");
  if (out.empty()) {
    std::string base = a.file;
    if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0)
      base.resize(base.size() - 5);
    out = base + ".svg";
  }
  nnrt_error e{};
  nnrt_history h{};
  char *model = nullptr;
  int64_t first = 1;
  if (nnrt_read_metrics_history(a.file.c_str(), &model, &h, &first, &e))
    return fail(e.msg);
  std::string svg = curvesSvg(model, h, first);
  std::free(model);
  int64_t epochs = h.count;
  nnrt_history_free(&h);
  if (nnrt_write_file_atomic(out.c_str(), svg.data(), svg.size(), &e))
    return fail(e.msg);
  std::printf("wrote %s: %lld epochs\n", out.c_str(), (long long)epochs);
  return 0;
}

} // namespace nnc::tool
