// Reading a binlog file from disk: the magic, then one event at a time. Only the current event is
// held in memory, and nothing is read past the end of the file (its size is taken first, and
// every event length is checked against what remains before it is read).
#include <cerrno>
#include <cstring>
#include <fstream>

#include "capture/mysql/binlog_decoder.h"

namespace ferry::capture::mysql {
namespace {

constexpr size_t kHeaderSize = 19;
constexpr char kMagic[] = {'\xfe', 'b', 'i', 'n'};

uint32_t EventSize(const std::string& header) {
  uint32_t size = 0;
  for (size_t i = 0; i < 4; ++i)
    size |= static_cast<uint32_t>(static_cast<uint8_t>(header[9 + i])) << (8 * i);
  return size;
}

}  // namespace

Status ReadBinlogFile(const std::string& path,
                      const std::function<Status(std::string_view event)>& on_event) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return Status::Error("cannot open binlog file " + path + ": " + std::strerror(errno));
  }
  const std::streamoff file_size = in.tellg();
  in.seekg(0);
  char magic[sizeof kMagic] = {};
  if (file_size < static_cast<std::streamoff>(sizeof kMagic) || !in.read(magic, sizeof magic) ||
      std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    return Status::Error("not a binlog file (missing the 0xfe 'bin' magic): " + path);
  }
  uint64_t offset = sizeof kMagic;
  std::string event;
  while (offset < static_cast<uint64_t>(file_size)) {
    const uint64_t remaining = static_cast<uint64_t>(file_size) - offset;
    if (remaining < kHeaderSize) {
      return Status::Error("truncated binlog event at offset " + std::to_string(offset) + " of " +
                           path + ": only " + std::to_string(remaining) +
                           " of the 19 header bytes are there");
    }
    event.resize(kHeaderSize);
    if (!in.read(event.data(), kHeaderSize)) {
      return Status::Error("cannot read " + path + " at offset " + std::to_string(offset));
    }
    const uint32_t size = EventSize(event);
    if (size < kHeaderSize) {
      return Status::Error("malformed binlog event at offset " + std::to_string(offset) + " of " +
                           path + ": its header says it is " + std::to_string(size) +
                           " bytes, less than the 19-byte header");
    }
    if (size > remaining) {
      return Status::Error("truncated binlog event at offset " + std::to_string(offset) + " of " +
                           path + ": its header says " + std::to_string(size) + " bytes but only " +
                           std::to_string(remaining) + " remain");
    }
    event.resize(size);
    if (!in.read(event.data() + kHeaderSize, size - kHeaderSize)) {
      return Status::Error("cannot read " + path + " at offset " + std::to_string(offset));
    }
    FERRY_RETURN_IF_ERROR(on_event(event));
    offset += size;
  }
  return Status::Ok();
}

}  // namespace ferry::capture::mysql
