// Plot.cpp: curvesSvg. Axes get "nice" ticks (1, 2 or 5 times a power of
// ten), so the numbers on them read as a person would write them.
#include "Plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace nnc::tool {

namespace {

constexpr double kPanelW = 440, kPanelH = 320;
constexpr double kLeft = 62, kRight = 16, kTop = 56, kBottom = 46;
const char *const kTrainColor = "#1f77b4", *const kValColor = "#ff7f0e";

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return b;
}

std::string esc(const std::string &s) {
  std::string out;
  for (char c : s)
    out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

// About `want` ticks over [lo, hi] at 1, 2 or 5 times a power of ten.
std::vector<double> niceTicks(double lo, double hi, int want) {
  double raw = (hi - lo) / want, p = std::pow(10, std::floor(std::log10(raw)));
  double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(v);
  return t;
}

struct Series {
  const char *name;
  const float *y;
  const char *color;
  bool dashed;
};

// One panel at x offset `ox`: axes, grid, ticks, the series and a legend.
void panel(std::ostringstream &o, double ox, const std::string &title,
           const std::vector<Series> &series, int64_t n, int64_t first) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series &s : series)
    for (int64_t k = 0; k < n; ++k)
      if (std::isfinite(s.y[k]))
        lo = std::min(lo, double(s.y[k])), hi = std::max(hi, double(s.y[k]));
  if (hi - lo < 1e-12)
    lo -= 0.5, hi += 0.5;
  double pad = 0.05 * (hi - lo);
  lo -= pad, hi += pad;
  double x0 = double(first), x1 = double(first + n - 1);
  if (n == 1)
    x0 -= 0.5, x1 += 0.5;
  double w = kPanelW - kLeft - kRight, h = kPanelH - kTop - kBottom;
  auto X = [&](double e) { return ox + kLeft + (e - x0) / (x1 - x0) * w; };
  auto Y = [&](double v) { return kTop + (hi - v) / (hi - lo) * h; };
  o << "<g class=\"panel\" id=\"" << esc(title) << "\">\n";
  o << "<text x=\"" << ox + kLeft + w / 2 << "\" y=\"22\" text-anchor=\"middle\" "
    << "font-size=\"15\" font-weight=\"bold\">" << esc(title) << "</text>\n";
  for (double v : niceTicks(lo, hi, 5))
    o << "<line class=\"grid\" x1=\"" << X(x0) << "\" x2=\"" << X(x1) << "\" y1=\"" << Y(v)
      << "\" y2=\"" << Y(v) << "\" stroke=\"#ddd\"/>\n"
      << "<text x=\"" << X(x0) - 6 << "\" y=\"" << Y(v) + 4
      << "\" text-anchor=\"end\" font-size=\"11\">" << num(v) << "</text>\n";
  for (double e : niceTicks(x0, x1, std::min<int64_t>(8, std::max<int64_t>(n - 1, 1))))
    if (e == std::floor(e))
      o << "<text x=\"" << X(e) << "\" y=\"" << kTop + h + 16
        << "\" text-anchor=\"middle\" font-size=\"11\">" << num(e) << "</text>\n";
  o << "<rect x=\"" << X(x0) << "\" y=\"" << kTop << "\" width=\"" << w << "\" height=\"" << h
    << "\" fill=\"none\" stroke=\"#333\"/>\n"
    << "<text x=\"" << ox + kLeft + w / 2 << "\" y=\"" << kPanelH - 8
    << "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n";
  // The legend: one row in the margin under the title, clear of the curves.
  double lx = X(x0);
  for (const Series &s : series) {
    // A polyline per run of finite values: a gap where a value is missing.
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        o << "<polyline class=\"" << s.name << "\" fill=\"none\" stroke=\"" << s.color
          << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6 4\"" : "")
          << " points=\"" << pts << "\"/>\n";
      pts.clear();
    };
    bool any = false;
    for (int64_t k = 0; k < n; ++k) {
      if (!std::isfinite(s.y[k])) {
        flush();
        continue;
      }
      any = true;
      pts += (pts.empty() ? "" : " ") + num(X(double(first + k))) + "," + num(Y(s.y[k]));
    }
    flush();
    if (!any)
      continue;
    double ly = kTop - 12;
    o << "<line x1=\"" << lx << "\" x2=\"" << lx + 24 << "\" y1=\"" << ly << "\" y2=\"" << ly
      << "\" stroke=\"" << s.color << "\" stroke-width=\"2\""
      << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n"
      << "<text class=\"legend\" x=\"" << lx + 30 << "\" y=\"" << ly + 4 << "\" font-size=\"12\">"
      << s.name << "</text>\n";
    lx += 140;
  }
  o << "</g>\n";
}

bool anyFinite(const float *y, int64_t n) {
  return std::any_of(y, y + n, [](float v) { return std::isfinite(v); });
}

} // namespace

std::string curvesSvg(const std::string &model, const nnrt_history &h, int64_t firstEpoch) {
  int64_t n = h.count;
  bool acc = anyFinite(h.accuracy, n) || anyFinite(h.val_accuracy, n);
  double width = kPanelW * (acc ? 2 : 1);
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << kPanelH
    << "\" viewBox=\"0 0 " << width << " " << kPanelH
    << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
    << "<title>" << esc(model) << ": training curves</title>\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  panel(o, 0, model + ": loss",
        {{"loss", h.loss, kTrainColor, false}, {"val_loss", h.val_loss, kValColor, true}}, n,
        firstEpoch);
  if (acc)
    panel(o, kPanelW, model + ": accuracy",
          {{"accuracy", h.accuracy, kTrainColor, false},
           {"val_accuracy", h.val_accuracy, kValColor, true}},
          n, firstEpoch);
  o << "</svg>\n";
  return o.str();
}

} // namespace nnc::tool
