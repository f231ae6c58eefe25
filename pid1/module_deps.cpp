#include "pid1/module_deps.hpp"

#include <cstring>

namespace dynamod::init {

namespace {

// The module name of a path: its last component up to the first '.', with '-' read as '_'.
bool names(const char* path, size_t len, const char* module) {
  size_t start = len;
  while (start > 0 && path[start - 1] != '/') --start;
  size_t end = start;
  while (end < len && path[end] != '.') ++end;
  const size_t mlen = std::strlen(module);
  if (end - start != mlen) return false;
  for (size_t i = 0; i < mlen; ++i) {
    const char a = path[start + i] == '-' ? '_' : path[start + i];
    const char b = module[i] == '-' ? '_' : module[i];
    if (a != b) return false;
  }
  return true;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

size_t module_load_order(const char* text, size_t len, const char* module, module_path* out, size_t max) {
  size_t line = 0;
  while (line < len) {
    size_t eol = line;
    while (eol < len && text[eol] != '\n') ++eol;
    size_t colon = line;
    while (colon < eol && text[colon] != ':') ++colon;
    if (colon < eol && names(text + line, colon - line, module)) {
      // The dependencies, read from the end of the line: each needs only those after it.
      size_t count = 0;
      size_t end = eol;
      for (;;) {
        while (end > colon + 1 && is_space(text[end - 1])) --end;
        if (end <= colon + 1) break;
        size_t start = end;
        while (start > colon + 1 && !is_space(text[start - 1])) --start;
        if (count == max) return max + 1;
        out[count++] = {text + start, end - start};
        end = start;
      }
      if (count == max) return max + 1;
      out[count++] = {text + line, colon - line};
      return count;
    }
    line = eol + 1;
  }
  return 0;
}

bool is_filesystem_module(const char* text, size_t len, const char* path, size_t path_len) {
  constexpr char kFs[] = "kernel/fs/";
  constexpr size_t kFsLen = sizeof kFs - 1;
  auto under_fs = [&](const char* p, size_t n) { return n > kFsLen && std::memcmp(p, kFs, kFsLen) == 0; };
  if (under_fs(path, path_len)) return true;
  bool depended_on = false, depended_on_elsewhere = false;
  for (size_t line = 0; line < len;) {
    size_t eol = line;
    while (eol < len && text[eol] != '\n') ++eol;
    size_t colon = line;
    while (colon < eol && text[colon] != ':') ++colon;
    if (colon < eol) {
      const bool fs_line = under_fs(text + line, colon - line);
      for (size_t start = colon + 1; start < eol;) {
        while (start < eol && is_space(text[start])) ++start;
        size_t end = start;
        while (end < eol && !is_space(text[end])) ++end;
        if (end - start == path_len && std::memcmp(text + start, path, path_len) == 0) {
          (fs_line ? depended_on : depended_on_elsewhere) = true;
        }
        start = end;
      }
    }
    line = eol + 1;
  }
  // Needed by a driver too (a crypto helper of a disk driver): loaded with the drivers.
  return depended_on && !depended_on_elsewhere;
}

}  // namespace dynamod::init
