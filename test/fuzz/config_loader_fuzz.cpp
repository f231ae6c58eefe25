// libFuzzer target: bytes as configuration files through the whole loader, as boot, `check` and `reload` run it:
// the TOML bounds, parsing, validation of every key, the cross-file checks (names, supervisors, requirements,
// cycles), the supervision plan, reload's keep-running merge and the escaped error texts. The input is split
// into files at lines "%%"; a file holding "[supervisor]" is a supervisor file, the others service files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/config_loader.hpp"
#include "runtime/config/keep_running.hpp"
#include "runtime/config/supervision_plan.hpp"

using namespace dynamod;

namespace {

void split_files(std::string_view input, std::vector<config_text>& sups, std::vector<config_text>& services) {
  size_t index = 0;
  while (true) {
    const size_t cut = input.find("\n%%\n");
    const std::string_view file = input.substr(0, cut);
    const std::string name = "f" + std::to_string(index++) + ".toml";
    if (file.find("[supervisor]") != std::string_view::npos) {
      sups.push_back({"supervisors/" + name, std::string{file}});
    } else {
      services.push_back({"services/" + name, std::string{file}});
    }
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + 4);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<config_text> sups, services;
  split_files({reinterpret_cast<const char*>(data), size}, sups, services);
  config_tree tree = load_config_texts(sups, services);
  size_t text = 0;
  for (const auto& e : tree.errors) text += e.describe().size();
  for (const auto& [name, why] : tree.disabled) text += name.size() + why.size();
  // Quadratic output (a ring of cycles printing itself per member, reasons nesting along a chain) is a defect too.
  if (text > 64 * size + 1024 * (tree.errors.size() + tree.disabled.size() + 1)) __builtin_trap();
  config_tree again = load_config_texts(sups, services);
  plan_node plan = make_supervision_plan(std::move(tree));
  auto ordered = services_in_order(plan);
  (void)ordered;
  keep_running_definitions(again, plan);
  plan_node merged = make_supervision_plan(std::move(again));
  return services_in_order(merged).size() > 1000000 ? 1 : 0;
}
