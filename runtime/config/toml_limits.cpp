#include "runtime/config/toml_limits.hpp"

#include <string>

namespace dynamod {

namespace {

class scanner {
 public:
  explicit scanner(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool starts(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
  void advance(size_t n = 1) {
    for (size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        column_ = 1;
      } else {
        ++column_;
      }
    }
  }
  int line() const { return line_; }
  int column() const { return column_; }

  // Skips a string whose opening quote(s) `quote` are at the cursor; basic strings honour backslash escapes.
  void skip_string(std::string_view quote, bool basic) {
    advance(quote.size());
    const bool multiline = quote.size() == 3;
    while (!done()) {
      if (basic && peek() == '\\') {
        advance(2);
      } else if (starts(quote)) {
        advance(quote.size());
        return;
      } else if (!multiline && peek() == '\n') {
        return;  // unterminated: the parser reports it
      } else {
        advance();
      }
    }
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

std::optional<config_error> exceeds_toml_limits(std::string_view text, const std::string& path,
                                                const toml_limits& limits) {
  if (text.size() > limits.max_bytes) {
    return config_error{path, 0, 0, "", "the file is too large (" + std::to_string(text.size()) +
                                            " bytes; a configuration file may have at most " +
                                            std::to_string(limits.max_bytes) + ")"};
  }
  scanner s{text};
  int nesting = 0;
  int dots = 0;  // in the current key or header (values rarely have any: a float has one)
  while (!s.done()) {
    const char c = s.peek();
    switch (c) {
      case '#':
        while (!s.done() && s.peek() != '\n') s.advance();
        continue;
      case '"':
        s.skip_string(s.starts("\"\"\"") ? "\"\"\"" : "\"", true);
        continue;
      case '\'':
        s.skip_string(s.starts("'''") ? "'''" : "'", false);
        continue;
      case '[':
      case '{':
        if (++nesting > limits.max_nesting) {
          return config_error{path, s.line(), s.column(), "",
                              "arrays, tables and inline tables are nested more than " +
                                  std::to_string(limits.max_nesting) + " deep"};
        }
        dots = 0;
        break;
      case ']':
      case '}':
        if (nesting > 0) --nesting;
        dots = 0;
        break;
      case '.':
        if (++dots >= limits.max_key_parts) {
          return config_error{path, s.line(), s.column(), "",
                              "a key or table header has more than " + std::to_string(limits.max_key_parts) +
                                  " dotted parts"};
        }
        break;
      case '=':
      case ',':
      case '\n':
        dots = 0;
        break;
      default:
        break;
    }
    s.advance();
  }
  return std::nullopt;
}

}  // namespace dynamod
