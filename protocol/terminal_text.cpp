#include "protocol/terminal_text.hpp"

#include <cstdint>

namespace dynamod {

namespace {

// Length of the valid UTF-8 sequence at text[i] that is printable (not a C1 control), or 0.
size_t printable_utf8(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b = byte(i);
  size_t len = 0;
  uint32_t cp = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
    cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    cp = b & 0x0F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  const bool invalid = cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF);
  const bool c1 = cp >= 0x80 && cp <= 0x9F;
  return overlong || invalid || c1 ? 0 : len;
}

bool plain_ascii(uint8_t b, bool keep_tabs) { return (b >= 0x20 && b < 0x7F) || (keep_tabs && b == '\t'); }

}  // namespace

std::string terminal_safe(std::string_view text, bool keep_tabs) {
  std::string out;
  out.reserve(text.size());
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (plain_ascii(b, keep_tabs)) {
      out += text[i++];
      continue;
    }
    if (b >= 0x80) {
      if (const size_t len = printable_utf8(text, i)) {
        out.append(text.substr(i, len));
        i += len;
        continue;
      }
    }
    switch (b) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case 0x1B: out += "\\e"; break;
      default:
        out += "\\x";
        out += hex[b >> 4];
        out += hex[b & 0xF];
    }
    ++i;
  }
  return out;
}

bool is_terminal_safe(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (plain_ascii(b, false)) {
      ++i;
    } else if (const size_t len = b >= 0x80 ? printable_utf8(text, i) : 0) {
      i += len;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace dynamod
