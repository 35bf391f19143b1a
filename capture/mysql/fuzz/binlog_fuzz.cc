// libFuzzer target for the binlog decoder (and, through it, TABLE_MAP and row image decoding).
// Built only with -DFERRY_FUZZ=ON and clang:
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON
//   cmake --build build-fuzz --target binlog_fuzz
//   build-fuzz/capture/mysql/binlog_fuzz -max_total_time=300 [corpus dir]
// Input: one control byte, then a binlog file image framed as ReadBinlogFile frames it (events
// back to back, each length from its header; the 4-byte magic is optional). Control bits:
//   0x01  engine "mysql" instead of "mariadb"
//   0x02  start the stream with a checksum-less FORMAT_DESCRIPTION_EVENT of that flavor, so that
//         the fuzzer reaches the row and GTID paths without having to forge CRC32s
//   0x04  start from a GTID state ("0-1-5" / "uuid:1-5") instead of none
// Errors do not stop the stream: the decoder must stay safe after them too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/mysql/binlog_decoder.h"

namespace {

using ferry::capture::mysql::BinlogDecoder;
using ferry::capture::mysql::DecodedEvent;
using ferry::capture::mysql::DecoderOptions;

std::string Le(uint64_t value, size_t width) {
  std::string bytes;
  for (size_t i = 0; i < width; ++i) bytes += static_cast<char>(value >> (8 * i) & 0xff);
  return bytes;
}

// A FORMAT_DESCRIPTION_EVENT with the post-header lengths servers write and checksums off.
std::string Fde(bool mysql) {
  std::string version = mysql ? "8.0.31" : "10.11.6-MariaDB-log";
  version.resize(50, '\0');
  std::vector<uint8_t> lengths(mysql ? 41 : 171, 0);
  auto set = [&](int type, int length) { lengths[type - 1] = static_cast<uint8_t>(length); };
  set(2, 13);
  set(4, 8);
  set(19, 8);
  for (int t : {23, 24, 25}) set(t, 8);
  for (int t : {30, 31, 32}) set(t, 10);
  set(33, 42);
  set(34, 42);
  set(40, 40);
  if (!mysql) {
    set(161, 4);
    set(162, 19);
    set(163, 4);
    set(165, 13);
    for (int t : {166, 167, 168}) set(t, 8);
    for (int t : {169, 170, 171}) set(t, 10);
  }
  const std::string body = Le(4, 2) + version + Le(0, 4) + "\x13" +
                           std::string(lengths.begin(), lengths.end()) + std::string(5, '\0');
  const uint32_t size = static_cast<uint32_t>(19 + body.size());
  return Le(1700000000, 4) + "\x0f" + Le(1, 4) + Le(size, 4) + Le(4 + size, 4) + Le(0, 2) + body;
}

void Decode(BinlogDecoder& decoder, std::string_view event) {
  (void)decoder.DecodeTo(event, [](DecodedEvent&&) { return ferry::Status::Ok(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool mysql = control & 0x01;
  DecoderOptions options;
  options.engine = mysql ? "mysql" : "mariadb";
  options.file = "fuzz-bin.000001";
  if (control & 0x04) {
    options.gtid_state = mysql ? "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5" : "0-1-5";
  }
  BinlogDecoder decoder(options);
  if (control & 0x02) Decode(decoder, Fde(mysql));
  if (input.substr(0, 4) == std::string_view("\xfe"
                                             "bin",
                                             4))
    input.remove_prefix(4);
  while (input.size() >= 19) {
    const uint32_t length = static_cast<uint8_t>(input[9]) | static_cast<uint8_t>(input[10]) << 8 |
                            static_cast<uint8_t>(input[11]) << 16 |
                            static_cast<uint32_t>(static_cast<uint8_t>(input[12])) << 24;
    if (length < 19 || length > input.size()) break;  // ReadBinlogFile stops here too
    Decode(decoder, input.substr(0, length));
    input.remove_prefix(length);
  }
  return 0;
}
