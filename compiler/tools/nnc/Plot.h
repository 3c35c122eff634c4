// Plot.h: the loss and accuracy curves of a training run as an SVG file
// (nnc plot, nnc train --plot), drawn with no library: a panel per metric,
// training solid and validation dashed.
#pragma once

#include "nnrt/nnrt.h"

#include <cstdint>
#include <string>

namespace nnc::tool {

// h's epochs are numbered from firstEpoch; NaN values are left out (a
// regression has no accuracy panel, a run without validation no dashed
// lines).
std::string curvesSvg(const std::string &model, const nnrt_history &h, int64_t firstEpoch);

} // namespace nnc::tool
