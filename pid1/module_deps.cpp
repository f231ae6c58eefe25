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
  size_t count = 0;
  for_each_dep_line(text, len, [&](const char* path, size_t path_len, const char* deps, size_t deps_len) {
    if (!names(path, path_len, module)) return true;
    // The dependencies, read from the end of the line: each needs only those after it.
    size_t end = deps_len;
    for (;;) {
      while (end > 0 && is_space(deps[end - 1])) --end;
      if (end == 0) break;
      size_t start = end;
      while (start > 0 && !is_space(deps[start - 1])) --start;
      if (count == max) {
        count = max + 1;
        return false;
      }
      out[count++] = {deps + start, end - start};
      end = start;
    }
    if (count == max) {
      count = max + 1;
      return false;
    }
    out[count++] = {path, path_len};
    return false;
  });
  return count;
}

bool is_filesystem_module(const char* text, size_t len, const char* path, size_t path_len) {
  constexpr char kFs[] = "kernel/fs/";
  constexpr size_t kFsLen = sizeof kFs - 1;
  auto under_fs = [&](const char* p, size_t n) { return n > kFsLen && std::memcmp(p, kFs, kFsLen) == 0; };
  if (under_fs(path, path_len)) return true;
  bool depended_on = false, depended_on_elsewhere = false;
  for_each_dep_line(text, len, [&](const char* line_path, size_t line_path_len, const char* deps, size_t deps_len) {
    const bool fs_line = under_fs(line_path, line_path_len);
    for (size_t start = 0; start < deps_len;) {
      while (start < deps_len && is_space(deps[start])) ++start;
      size_t end = start;
      while (end < deps_len && !is_space(deps[end])) ++end;
      if (end - start == path_len && std::memcmp(deps + start, path, path_len) == 0) {
        (fs_line ? depended_on : depended_on_elsewhere) = true;
      }
      start = end;
    }
    return true;
  });
  // Needed by a driver too (a crypto helper of a disk driver): loaded with the drivers.
  return depended_on && !depended_on_elsewhere;
}

}  // namespace dynamod::init
