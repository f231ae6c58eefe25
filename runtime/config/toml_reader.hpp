// Reads one TOML table key by key with type and value checks, recording located errors, and reports
// every key nobody asked for as unknown (with a suggestion when one is close). Used by config_parser.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/config/config_error.hpp"
#include "runtime/config/value_parsers.hpp"

namespace dynamod {

class toml_reader {
 public:
  toml_reader(const toml::table& table, std::string section, std::string file, config_errors& errors);

  bool has(const char* key) const;
  std::optional<std::string> string(const char* key, bool required = false);
  std::optional<std::vector<std::string>> string_array(const char* key, bool required = false,
                                                      bool allow_empty = true);
  std::optional<int64_t> integer(const char* key, int64_t min, int64_t max);
  std::optional<bool> boolean(const char* key);
  std::optional<std::chrono::milliseconds> duration(const char* key);
  std::optional<size_value> size(const char* key);
  std::optional<int> signal(const char* key);
  // A string array each element of which passes `valid`; the first that does not is reported as
  // "'<element>' <problem>".
  std::optional<std::vector<std::string>> string_array_of(const char* key,
                                                         const std::function<bool(const std::string&)>& valid,
                                                         const std::string& problem);
  // Paths that must be absolute.
  std::optional<std::string> absolute_path(const char* key);
  std::optional<std::vector<std::string>> absolute_paths(const char* key) {
    return string_array_of(key, is_absolute_path, "must be an absolute path");
  }
  // A string that must be one of `choices`.
  std::optional<std::string> choice(const char* key, const std::vector<std::string>& choices);
  const toml::table* table(const char* key);
  const toml::array* array(const char* key);
  const toml::node* node(const char* key);  // marks the key as known, no type check

  // Records an error at the key's position (or the table's, if the key is absent).
  void error(const char* key, const std::string& message);
  void error_at(const toml::node& node, const std::string& key_path, const std::string& message);
  // Line and column of a key's value (or of the table when absent).
  std::pair<int, int> position(const char* key) const;
  // Reports unknown keys. Call once after reading everything.
  void finish();

  // A reader for a sub-table (e.g. [service.user]), sharing this reader's file and error list.
  toml_reader sub(const toml::table& table, const char* key) const { return sub_at(table, path(key)); }
  toml_reader sub_at(const toml::table& table, std::string section) const {
    return toml_reader{table, std::move(section), file_, errors_};
  }
  const std::string& section() const { return section_; }
  std::string path(const char* key) const { return section_.empty() ? key : section_ + "." + key; }

 private:
  const toml::node* lookup(const char* key);
  const toml::table& table_;
  std::string section_;
  std::string file_;
  config_errors& errors_;
  std::set<std::string> known_;
};

// "an integer", "a string", ... for error messages.
std::string describe_type(const toml::node& node);

}  // namespace dynamod
