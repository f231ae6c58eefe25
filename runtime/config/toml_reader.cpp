#include "runtime/config/toml_reader.hpp"

#include <algorithm>

namespace dynamod {

std::string describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date/time";
    default: return "nothing";
  }
}

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

toml_reader::toml_reader(const toml::table& table, std::string section, std::string file, config_errors& errors)
    : table_(table), section_(std::move(section)), file_(std::move(file)), errors_(errors) {}

bool toml_reader::has(const char* key) const { return table_.contains(key); }

const toml::node* toml_reader::lookup(const char* key) {
  known_.insert(key);
  return table_.get(key);
}

void toml_reader::error_at(const toml::node& node, const std::string& key_path, const std::string& message) {
  const auto& src = node.source();
  errors_.push_back({file_, static_cast<int>(src.begin.line), static_cast<int>(src.begin.column), key_path, message});
}

void toml_reader::error(const char* key, const std::string& message) {
  const toml::node* n = table_.get(key);
  const auto& src = n ? n->source() : table_.source();
  errors_.push_back({file_, static_cast<int>(src.begin.line), static_cast<int>(src.begin.column), path(key), message});
}

const toml::node* toml_reader::node(const char* key) { return lookup(key); }

std::optional<std::string> toml_reader::string(const char* key, bool required) {
  const toml::node* n = lookup(key);
  if (!n) {
    if (required) error(key, "required key is missing");
    return std::nullopt;
  }
  if (auto s = n->value<std::string>(); s && n->is_string()) {
    if (required && s->empty()) {
      error(key, "must not be empty");
      return std::nullopt;
    }
    return s;
  }
  error(key, "expected a string, got " + describe_type(*n));
  return std::nullopt;
}

std::optional<std::vector<std::string>> toml_reader::string_array(const char* key, bool required, bool allow_empty) {
  const toml::node* n = lookup(key);
  if (!n) {
    if (required) error(key, "required key is missing");
    return std::nullopt;
  }
  const toml::array* arr = n->as_array();
  if (!arr) {
    error(key, "expected an array of strings, got " + describe_type(*n));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    if (!e.is_string()) {
      error_at(e, path(key) + "[" + std::to_string(i) + "]", "expected a string, got " + describe_type(e));
      return std::nullopt;
    }
    out.push_back(*e.value<std::string>());
  }
  if (out.empty() && !allow_empty) {
    error(key, "must not be empty");
    return std::nullopt;
  }
  return out;
}

std::optional<int64_t> toml_reader::integer(const char* key, int64_t min, int64_t max) {
  const toml::node* n = lookup(key);
  if (!n) return std::nullopt;
  if (!n->is_integer()) {
    error(key, "expected an integer, got " + describe_type(*n));
    return std::nullopt;
  }
  const int64_t v = *n->value<int64_t>();
  if (v < min || v > max) {
    error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> toml_reader::boolean(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return std::nullopt;
  if (!n->is_boolean()) {
    error(key, "expected true or false, got " + describe_type(*n));
    return std::nullopt;
  }
  return *n->value<bool>();
}

std::optional<std::chrono::milliseconds> toml_reader::duration(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return std::nullopt;
  if (n->is_integer() || n->is_floating_point()) {
    if (auto d = duration_from_seconds(*n->value<double>())) return d;
    error(key, "a duration must be a non-negative number of seconds");
    return std::nullopt;
  }
  if (n->is_string()) {
    const std::string s = *n->value<std::string>();
    if (auto d = parse_duration(s)) return d;
    error(key, "'" + s + "' is not a duration (use e.g. \"250ms\", \"30s\", \"5m\", \"1h\" or a number of seconds)");
    return std::nullopt;
  }
  error(key, "expected a duration, got " + describe_type(*n));
  return std::nullopt;
}

std::optional<size_value> toml_reader::size(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return std::nullopt;
  if (n->is_integer()) {
    const int64_t v = *n->value<int64_t>();
    if (v < 0) {
      error(key, "a size must not be negative");
      return std::nullopt;
    }
    return size_value{false, static_cast<uint64_t>(v)};
  }
  if (n->is_string()) {
    const std::string s = *n->value<std::string>();
    if (auto v = parse_size(s)) return v;
    error(key, "'" + s + "' is not a size (use e.g. \"512M\", \"2G\", \"max\" or a number of bytes)");
    return std::nullopt;
  }
  error(key, "expected a size, got " + describe_type(*n));
  return std::nullopt;
}

std::optional<int> toml_reader::signal(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return std::nullopt;
  if (n->is_integer()) {
    if (auto s = signal_from_number(*n->value<int64_t>())) return s;
    error(key, "signal numbers go from 1 to 64");
    return std::nullopt;
  }
  if (n->is_string()) {
    const std::string s = *n->value<std::string>();
    if (auto sig = parse_signal(s)) return sig;
    error(key, "'" + s + "' is not a signal (use e.g. \"SIGTERM\", \"HUP\" or a number)");
    return std::nullopt;
  }
  error(key, "expected a signal, got " + describe_type(*n));
  return std::nullopt;
}

std::optional<std::string> toml_reader::absolute_path(const char* key) {
  auto v = string(key);
  if (v && !is_absolute_path(*v)) {
    error(key, "'" + *v + "' must be an absolute path");
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> toml_reader::string_array_of(
    const char* key, const std::function<bool(const std::string&)>& valid, const std::string& problem) {
  auto v = string_array(key);
  if (!v) return v;
  for (const auto& e : *v) {
    if (!valid(e)) {
      error(key, "'" + e + "' " + problem);
      return std::nullopt;
    }
  }
  return v;
}

std::optional<std::string> toml_reader::choice(const char* key, const std::vector<std::string>& choices) {
  auto s = string(key);
  if (!s) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + ("\"" + c + "\"");
  error(key, "'" + *s + "' is not one of " + list);
  return std::nullopt;
}

const toml::table* toml_reader::table(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return nullptr;
  if (!n->is_table()) {
    error(key, "expected a table, got " + describe_type(*n));
    return nullptr;
  }
  return n->as_table();
}

const toml::array* toml_reader::array(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return nullptr;
  if (!n->is_array()) {
    error(key, "expected an array, got " + describe_type(*n));
    return nullptr;
  }
  return n->as_array();
}

std::pair<int, int> toml_reader::position(const char* key) const {
  const toml::node* n = table_.get(key);
  const auto& src = n ? n->source() : table_.source();
  return {static_cast<int>(src.begin.line), static_cast<int>(src.begin.column)};
}

void toml_reader::finish() {
  for (auto&& [k, v] : table_) {
    const std::string key{k.str()};
    if (known_.count(key)) continue;
    std::string message = "unknown key";
    size_t best = 3;
    std::string suggestion;
    for (const auto& known : known_) {
      const size_t d = edit_distance(key, known);
      if (d < best) {
        best = d;
        suggestion = known;
      }
    }
    if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
    const auto& src = k.source();
    errors_.push_back({file_, static_cast<int>(src.begin.line), static_cast<int>(src.begin.column), path(key.c_str()),
                       message});
  }
}

}  // namespace dynamod
