// libFuzzer target for the pgoutput decoder and the PostgreSQL value parser. Built only with
// -DFERRY_FUZZ=ON and clang:
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON
//   cmake --build build-fuzz --target pgoutput_fuzz
//   build-fuzz/capture/postgres/pgoutput_fuzz -max_total_time=300
// Input: a first byte of 'V' parses the rest as a value (next byte picks the type); anything
// else is a stream of messages, each preceded by a 2-byte big-endian length, fed to one decoder
// so that Relation messages shape how later row messages are read. Errors do not stop the
// stream: the decoder must stay safe after them too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capture/postgres/pg_values.h"
#include "capture/postgres/pgoutput_decoder.h"

namespace {

// Scalars and arrays of every type pg_values handles, plus one it does not.
constexpr uint32_t kOids[] = {16,   17,   18,   19,   20,   21,   23,   25,   26,   114,  142,
                              700,  701,  1042, 1043, 1082, 1083, 1114, 1184, 1186, 1266, 1560,
                              1562, 1700, 2950, 3802, 1000, 1001, 1002, 1003, 1016, 1005, 1007,
                              1009, 1028, 199,  143,  1021, 1022, 1014, 1015, 1182, 1183, 1115,
                              1185, 1187, 1270, 1561, 1563, 1231, 2951, 3807, 1020, 869,  99999};

void FuzzValue(std::string_view input) {
  if (input.empty()) return;
  const uint32_t oid = kOids[static_cast<uint8_t>(input[0]) % std::size(kOids)];
  (void)ferry::capture::postgres::PgTextToValue(oid, input.substr(1));
}

void FuzzStream(std::string_view input) {
  ferry::capture::postgres::PgOutputDecoder decoder;
  while (input.size() >= 2) {
    const size_t length = static_cast<uint8_t>(input[0]) << 8 | static_cast<uint8_t>(input[1]);
    input.remove_prefix(2);
    const std::string_view message = input.substr(0, length);
    input.remove_prefix(message.size());
    (void)decoder.Decode(message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == 'V') {
    FuzzValue(input.substr(1));
  } else {
    FuzzStream(input);
  }
  return 0;
}
