// Frame codec: the byte layout every Ferry connection speaks (wire/PROTOCOL.md).
//   u32 length | u8 type | payload | u32 CRC32C(type + payload)
// Both u32 are big-endian; length counts type + payload + crc, so it is at least 5.
// Invariant: a decoder never allocates for a frame before its length has been checked against
// the configured maximum, and never returns a frame whose CRC does not match.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry::wire {

// 2: a TRUNCATE names every relation it emptied (RowChange.truncate_relation_ids); an agent of
// version 1 would empty only the first, so the versions refuse each other. 3: copies of existing
// rows. 4: the capture agent opens with a Challenge and the token never travels (wire/auth.h).
inline constexpr uint32_t kProtocolVersion = 4;
inline constexpr size_t kDefaultMaxFrameBytes = 16 * 1024 * 1024;
inline constexpr size_t kFrameHeaderBytes = 5;   // length + type
inline constexpr size_t kFrameTrailerBytes = 4;  // crc

enum class FrameType : uint8_t {
  kHello = 1,
  kWelcome = 2,
  kBegin = 3,
  kChanges = 4,
  kCommit = 5,
  kHeartbeat = 6,
  kAck = 7,
  kError = 8,
  kChallenge = 9,
};

// Human-readable frame type name ("Hello", ..., or "unknown(42)").
std::string FrameTypeName(FrameType type);

struct Frame {
  FrameType type;
  std::string payload;  // serialized protobuf message of the type's payload kind
};

// Serializes `message` into one complete frame. Does not check any size limit: a sender compares
// the result against its max_frame_bytes (FrameConnection::Send does).
std::string EncodeFrame(FrameType type, const google::protobuf::MessageLite& message);

// Parses a frame's payload into `message`, naming the frame type on failure.
Status ParsePayload(const Frame& frame, google::protobuf::MessageLite* message);

// Incremental decoder: feed it bytes as they arrive, take frames out as they complete.
// `max_frame_bytes` bounds the length field (type + payload + crc); a larger length is refused as
// soon as its 4 bytes arrive, before any memory is set aside for the frame. Memory held is at most
// one frame plus whatever the caller fed beyond it.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxFrameBytes);

  void Feed(std::string_view bytes);
  // A complete frame, nullopt when more bytes are needed, or an error (oversized length, bad CRC,
  // unknown type). After an error the stream is unusable: close the connection.
  Result<std::optional<Frame>> Next();
  // Bytes received but not yet consumed (a partial frame).
  size_t buffered() const { return buffer_.size() - consumed_; }
  // The largest frame accepted from now on (e.g. raised once the peer has authenticated).
  void set_max_frame_bytes(size_t bytes) { max_frame_bytes_ = bytes; }

 private:
  // Drops consumed bytes from the front of buffer_ so it does not grow with the stream.
  void Compact();
  Status Fail(Status error);

  size_t max_frame_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;
  std::optional<Status> error_;  // sticky: once the stream is broken, every Next() says so
};

}  // namespace ferry::wire
