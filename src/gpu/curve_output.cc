// The allocation-vs-arrived curve as CSV and as a small self-contained SVG line plot.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sextant/gpu_trace.h"

namespace sextant {
namespace {

struct PolicyCurve {
  GpuPolicy policy;
  std::vector<double> mean;  // index: arrived %, NaN where no seed has a point
};

// Policies in the order they first appear; the per-percent mean over that policy's seeds.
std::vector<PolicyCurve> MeanCurves(const std::vector<GpuTraceResult>& results, int max_percent) {
  std::vector<PolicyCurve> curves;
  std::map<GpuPolicy, size_t> index;
  std::vector<std::vector<std::pair<double, int>>> sums;
  for (const GpuTraceResult& r : results) {
    auto [it, fresh] = index.emplace(r.policy, curves.size());
    if (fresh) {
      curves.push_back({r.policy, {}});
      sums.emplace_back(max_percent + 1, std::make_pair(0.0, 0));
    }
    for (int x = 0; x <= max_percent; ++x) {
      double v = AllocationAtArrived(r.curve, r.cluster_gpus, x);
      if (std::isnan(v)) continue;
      sums[it->second][x].first += v;
      ++sums[it->second][x].second;
    }
  }
  for (size_t i = 0; i < curves.size(); ++i) {
    for (const auto& [sum, count] : sums[i]) {
      curves[i].mean.push_back(count == 0 ? std::nan("") : sum / count);
    }
  }
  return curves;
}

constexpr const char* kColors[] = {"#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd",
                                   "#ff7f0e", "#d62728", "#000000", "#8c564b"};

}  // namespace

std::string GpuTraceCurveCsv(const std::vector<GpuTraceResult>& results, int max_percent) {
  std::vector<PolicyCurve> curves = MeanCurves(results, max_percent);
  std::string out = "arrived_percent";
  for (const PolicyCurve& c : curves) absl::StrAppend(&out, ",", GpuPolicyName(c.policy));
  out += "\n";
  for (int x = 0; x <= max_percent; ++x) {
    absl::StrAppend(&out, x);
    for (const PolicyCurve& c : curves) {
      if (std::isnan(c.mean[x])) {
        out += ",";
      } else {
        absl::StrAppend(&out, ",", absl::StrFormat("%.2f", c.mean[x]));
      }
    }
    out += "\n";
  }
  return out;
}

std::string GpuTraceCurveSvg(const std::vector<GpuTraceResult>& results, absl::string_view title,
                             int max_percent) {
  std::vector<PolicyCurve> curves = MeanCurves(results, max_percent);
  // Two panels: the whole curve, and a zoom on the end (80..max) where the policies differ.
  const double width = 960, height = 420, margin = 50, gap = 60;
  const double panel_w = (width - 2 * margin - gap) / 2, panel_h = height - 2 * margin - 20;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" "
      "font-size=\"15\">%s</text>\n",
      width, height, width / 2, title);
  struct Panel {
    double x0, x_lo, x_hi, y_lo, y_hi;
  };
  double y_lo_zoom = 100;
  for (const PolicyCurve& c : curves) {
    for (int x = 80; x <= max_percent; ++x) {
      if (!std::isnan(c.mean[x])) y_lo_zoom = std::min(y_lo_zoom, c.mean[x]);
    }
  }
  y_lo_zoom = std::floor(y_lo_zoom / 5) * 5;
  const Panel panels[] = {
      {margin, 0, static_cast<double>(max_percent), 0, 100},
      {margin + panel_w + gap, 80, static_cast<double>(max_percent), y_lo_zoom, 100}};
  const double top = margin + 10;
  for (const Panel& p : panels) {
    auto px = [&](double x) { return p.x0 + (x - p.x_lo) / (p.x_hi - p.x_lo) * panel_w; };
    auto py = [&](double y) { return top + panel_h - (y - p.y_lo) / (p.y_hi - p.y_lo) * panel_h; };
    svg += absl::StrFormat(
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
        "stroke=\"#333\"/>\n",
        p.x0, top, panel_w, panel_h);
    const double x_step = (p.x_hi - p.x_lo) > 60 ? 20 : 10;
    for (double x = p.x_lo; x <= p.x_hi + 1e-9; x += x_step) {
      svg += absl::StrFormat(
          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
          px(x), top, px(x), top + panel_h, px(x), top + panel_h + 16, x);
    }
    const double y_step = (p.y_hi - p.y_lo) > 40 ? 20 : 5;
    for (double y = p.y_lo; y <= p.y_hi + 1e-9; y += y_step) {
      svg += absl::StrFormat(
          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
          p.x0, py(y), p.x0 + panel_w, py(y), p.x0 - 6, py(y) + 4, y);
    }
    svg += absl::StrFormat(
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">arrived workload (%% of cluster "
        "GPUs)</text>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 "
        "%.1f %.1f)\">GPU allocation (%%)</text>\n",
        p.x0 + panel_w / 2, top + panel_h + 34, p.x0 - 36, top + panel_h / 2, p.x0 - 36,
        top + panel_h / 2);
    for (size_t i = 0; i < curves.size(); ++i) {
      std::string points;
      for (int x = static_cast<int>(p.x_lo); x <= max_percent; ++x) {
        double y = curves[i].mean[x];
        if (std::isnan(y) || y < p.y_lo) continue;
        absl::StrAppend(&points, absl::StrFormat("%.1f,%.1f ", px(x), py(y)));
      }
      svg += absl::StrFormat(
          "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"%s\"/>\n",
          kColors[i % 8], curves[i].policy == GpuPolicy::kSextant ? "2.5" : "1.5", points);
    }
  }
  // Legend in the lower right of the zoom panel (below the curves), with the last value.
  for (size_t i = 0; i < curves.size(); ++i) {
    double y = top + panel_h - 8 - 16 * static_cast<double>(curves.size() - 1 - i);
    double x = panels[1].x0 + panel_w - 190;
    double last = curves[i].mean[max_percent];
    svg += absl::StrFormat(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>"
        "<text x=\"%.1f\" y=\"%.1f\">%s (%.2f%% at %d%%)</text>\n",
        x, y - 4, x + 20, y - 4, kColors[i % 8], x + 26, y,
        std::string(GpuPolicyName(curves[i].policy)), last, max_percent);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace sextant
