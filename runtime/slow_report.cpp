#include "runtime/slow_report.hpp"

#include <algorithm>

namespace dynamod {

std::vector<std::string> slow_lines(std::vector<slow_item> items, size_t max_lines) {
  std::vector<std::string> out;
  if (items.empty() || max_lines == 0) return out;
  const auto said = [](const slow_item& i) { return i.text + ", " + std::to_string(i.seconds) + "s"; };
  if (items.size() <= max_lines) {
    for (const auto& i : items) out.push_back(said(i));
    return out;
  }
  const size_t shown = max_lines - 1;
  std::stable_sort(items.begin(), items.end(),
                   [](const slow_item& a, const slow_item& b) { return a.seconds > b.seconds; });
  for (size_t k = 0; k < shown; ++k) out.push_back(said(items[k]));
  out.push_back("and " + std::to_string(items.size() - shown) + " more (dynamodctl list shows them all)");
  return out;
}

}  // namespace dynamod
