// libFuzzer target for ParseCopyData, the framing of the walsender's CopyData messages: arbitrary
// bytes must give an error or a parsed message, never a crash or a read past the input. It must
// parse exactly what is well formed ('w' of at least 25 bytes, 'k' of at least 18, a send time
// that fits in Unix microseconds), and what parses must say what the bytes say: the fields are
// the big-endian words at their offsets, and an XLogData payload is exactly the input after the
// 25-byte header (a view into it, not a copy).
// Built only with -DFERRY_FUZZ=ON and clang:
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON
//   cmake --build build-fuzz --target copy_data_fuzz
//   build-fuzz/capture/postgres/copy_data_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <variant>

#include "capture/postgres/replication_stream.h"

namespace {

using ferry::capture::postgres::CopyMessage;
using ferry::capture::postgres::PrimaryKeepalive;
using ferry::capture::postgres::XLogData;

// 2000-01-01 (PostgreSQL's epoch) in Unix microseconds.
constexpr int64_t kPgEpochUnixMicros = 946'684'800'000'000;

void Check(bool condition) {
  if (!condition) std::abort();
}

uint64_t BigEndian64(std::string_view data, size_t offset) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(data[offset + i]);
  return value;
}

// The send time is PostgreSQL microseconds shifted to the Unix epoch, without overflow.
void CheckSendTime(std::string_view data, size_t offset, int64_t send_time_us) {
  Check(send_time_us >= std::numeric_limits<int64_t>::min() + kPgEpochUnixMicros);
  Check(static_cast<uint64_t>(send_time_us - kPgEpochUnixMicros) == BigEndian64(data, offset));
}

// What ParseCopyData must accept; everything else must be an error.
bool WellFormed(std::string_view data) {
  size_t time_offset = 0;
  if (data.size() >= 25 && data[0] == 'w') {
    time_offset = 17;
  } else if (data.size() >= 18 && data[0] == 'k') {
    time_offset = 9;
  } else {
    return false;
  }
  const auto pg_micros = static_cast<int64_t>(BigEndian64(data, time_offset));
  return pg_micros <= std::numeric_limits<int64_t>::max() - kPgEpochUnixMicros;
}

void CheckXLogData(std::string_view data, const XLogData& x) {
  Check(data[0] == 'w' && data.size() >= 25);
  Check(x.data_start == BigEndian64(data, 1));
  Check(x.wal_end == BigEndian64(data, 9));
  CheckSendTime(data, 17, x.send_time_us);
  Check(x.payload.data() == data.data() + 25 && x.payload.size() == data.size() - 25);
}

void CheckKeepalive(std::string_view data, const PrimaryKeepalive& k) {
  Check(data[0] == 'k' && data.size() >= 18);
  Check(k.wal_end == BigEndian64(data, 1));
  CheckSendTime(data, 9, k.send_time_us);
  Check(k.reply_requested == (data[17] != 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  ferry::Result<CopyMessage> message = ferry::capture::postgres::ParseCopyData(data);
  Check(message.ok() == WellFormed(data));
  if (!message.ok()) {
    Check(!message.message().empty());
    return 0;
  }
  if (const auto* x = std::get_if<XLogData>(&*message)) CheckXLogData(data, *x);
  if (const auto* k = std::get_if<PrimaryKeepalive>(&*message)) CheckKeepalive(data, *k);
  return 0;
}
