// The machine's identity, set up early by PID 1: the hostname from /etc/hostname and
// /etc/machine-id (created when missing or empty).
#pragma once

#include <cstddef>

namespace dynamod::init {

void set_hostname_from_config();
void ensure_machine_id();

// Pure helpers, exposed for tests.
// Extracts a valid hostname from /etc/hostname content (first non-comment line, trimmed, 1..64 chars of
// letters, digits, '-' and '.'). Returns its length, or 0 if the content holds none.
size_t hostname_from_file(const char* content, size_t length, char* out, size_t capacity);
// True if `content` is a 32-hex-digit machine id (optionally followed by a newline).
bool is_valid_machine_id(const char* content, size_t length);
// Formats 16 random bytes as a version-4 UUID in machine-id form (32 lowercase hex digits + '\n').
void format_machine_id(const unsigned char random[16], char out[33]);

}  // namespace dynamod::init
