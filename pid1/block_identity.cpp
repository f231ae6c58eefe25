#include "pid1/block_identity.hpp"

#include <cstring>

#include "pid1/root_options.hpp"

namespace dynamod::init {

namespace {

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

bool fits(size_t len, uint64_t offset, uint64_t size) { return offset <= len && size <= len - offset; }

// A label field of `size` bytes, NUL-padded or not: copied up to its first NUL, control bytes refused.
template <size_t N>
void copy_label(const uint8_t* p, size_t size, char (&out)[N]) {
  size_t n = 0;
  while (n < size && n + 1 < N && p[n] != 0) {
    out[n] = p[n] < 0x20 || p[n] == 0x7f ? '?' : static_cast<char>(p[n]);
    ++n;
  }
  out[n] = '\0';
}

// Where each file system keeps what identifies it, relative to its superblock.
struct fs_format {
  const char* type;
  size_t superblock;  // offset on the device
  size_t size;        // bytes of superblock read
  size_t magic_at;
  const char* magic;  // bytes, not a C string's meaning (ext's magic is 0xEF53 little-endian)
  size_t magic_len;
  size_t uuid_at;
  size_t label_at;
  size_t label_len;
};

constexpr fs_format kFormats[] = {
    {"ext4", 1024, 1024, 0x38, "\x53\xef", 2, 0x68, 0x78, 16},              // ext2/3/4 mount as ext4
    {"btrfs", 65536, 4096, 0x40, "_BHRfS_M", 8, 0x20, 0x12b, 256},
};

bool superblock(const uint8_t* data, size_t len, const fs_format& f, fs_identity& out) {
  if (!fits(len, f.superblock, f.size)) return false;
  const uint8_t* sb = data + f.superblock;
  if (std::memcmp(sb + f.magic_at, f.magic, f.magic_len) != 0) return false;
  fs_identity id;
  std::memcpy(id.type, f.type, std::strlen(f.type) + 1);
  std::memcpy(id.uuid, sb + f.uuid_at, 16);
  copy_label(sb + f.label_at, f.label_len, id.label);
  out = id;
  return true;
}

// GPT GUIDs are stored with their first three fields little-endian.
void format_guid(const uint8_t* g, char out[37]) {
  const uint8_t swapped[16] = {g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6],
                               g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]};
  format_uuid(swapped, out);
}

bool gpt_entry(const uint8_t* data, size_t len, size_t sector, uint32_t number, partition_identity& out) {
  if (!fits(len, sector, 92)) return false;
  const uint8_t* h = data + sector;
  if (std::memcmp(h, "EFI PART", 8) != 0) return false;
  const uint64_t entries_lba = le64(h + 72);
  const uint32_t count = le32(h + 80);
  const uint32_t entry_size = le32(h + 84);
  if (number == 0 || number > count || entry_size < 128 || entry_size > 4096 || entries_lba > len / sector) {
    return false;
  }
  const uint64_t at = entries_lba * sector + static_cast<uint64_t>(number - 1) * entry_size;
  if (!fits(len, at, 128)) return false;
  const uint8_t* e = data + at;
  static const uint8_t unused[16] = {};
  if (std::memcmp(e, unused, 16) == 0) return false;  // type GUID zero: no partition there
  partition_identity id;
  format_guid(e + 16, id.partuuid);
  size_t n = 0;
  for (size_t i = 0; i < 36 && n + 1 < sizeof id.name; ++i) {
    const uint16_t c = le16(e + 56 + 2 * i);
    if (c == 0) break;
    id.name[n++] = c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  }
  id.name[n] = '\0';
  out = id;
  return true;
}

bool mbr_entry(const uint8_t* data, size_t len, uint32_t number, partition_identity& out) {
  if (!fits(len, 0, 512) || data[510] != 0x55 || data[511] != 0xAA) return false;
  if (number == 0 || number > 4) return false;  // logical partitions (5+) need the extended chain: not here
  const uint8_t* e = data + 446 + 16 * (number - 1);
  if (e[4] == 0) return false;     // type 0: unused
  if (e[4] == 0xEE) return false;  // protective MBR: the GPT answers
  static const char digits[] = "0123456789abcdef";
  const uint32_t sig = le32(data + 440);
  partition_identity id;
  for (int i = 0; i < 8; ++i) id.partuuid[i] = digits[(sig >> (28 - 4 * i)) & 15];
  id.partuuid[8] = '-';
  id.partuuid[9] = digits[(number >> 4) & 15];
  id.partuuid[10] = digits[number & 15];
  id.partuuid[11] = '\0';
  out = id;
  return true;
}

}  // namespace

bool identify_filesystem(const uint8_t* data, size_t len, fs_identity& out) {
  if (data == nullptr) return false;
  for (const auto& f : kFormats) {
    if (superblock(data, len, f, out)) return true;
  }
  return false;
}

bool identify_partition(const uint8_t* data, size_t len, uint32_t number, partition_identity& out) {
  if (data == nullptr) return false;
  static const size_t kSectorSizes[] = {512, 4096};
  for (size_t sector : kSectorSizes) {
    if (fits(len, sector, 8) && std::memcmp(data + sector, "EFI PART", 8) == 0) {
      return gpt_entry(data, len, sector, number, out);
    }
  }
  return mbr_entry(data, len, number, out);
}

}  // namespace dynamod::init
