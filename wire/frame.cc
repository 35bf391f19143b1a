#include "wire/frame.h"

#include <cstdio>

#include "wire/crc32c.h"

namespace ferry::wire {
namespace {

constexpr size_t kLengthBytes = 4;
// Smallest legal length field: type byte + CRC, empty payload.
constexpr uint32_t kMinFrameLength = 1 + kFrameTrailerBytes;
// Above this much idle capacity an emptied buffer is released, so one large transaction does not
// pin its frame's worth of memory for the rest of the connection.
constexpr size_t kRetainedCapacity = 1 << 20;

void AppendBigEndian32(std::string* out, uint32_t value) {
  out->push_back(static_cast<char>(value >> 24));
  out->push_back(static_cast<char>(value >> 16));
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value));
}

uint32_t ReadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) << 24 | static_cast<uint32_t>(u[1]) << 16 |
         static_cast<uint32_t>(u[2]) << 8 | static_cast<uint32_t>(u[3]);
}

bool IsKnownType(uint8_t type) {
  return type >= static_cast<uint8_t>(FrameType::kHello) &&
         type <= static_cast<uint8_t>(FrameType::kChallenge);
}

std::string Hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08X", value);
  return text;
}

}  // namespace

std::string FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return "Hello";
    case FrameType::kWelcome:
      return "Welcome";
    case FrameType::kBegin:
      return "Begin";
    case FrameType::kChanges:
      return "Changes";
    case FrameType::kCommit:
      return "Commit";
    case FrameType::kHeartbeat:
      return "Heartbeat";
    case FrameType::kAck:
      return "Ack";
    case FrameType::kError:
      return "Error";
    case FrameType::kChallenge:
      return "Challenge";
  }
  return "unknown(" + std::to_string(static_cast<unsigned>(type)) + ")";
}

std::string EncodeFrame(FrameType type, const google::protobuf::MessageLite& message) {
  const size_t payload_bytes = message.ByteSizeLong();
  std::string frame;
  frame.reserve(kFrameHeaderBytes + payload_bytes + kFrameTrailerBytes);
  // Protobuf caps a message at 2 GiB, so the length always fits in 32 bits.
  AppendBigEndian32(&frame, static_cast<uint32_t>(1 + payload_bytes + kFrameTrailerBytes));
  frame.push_back(static_cast<char>(type));
  message.AppendPartialToString(&frame);
  const uint32_t crc = Crc32c(std::string_view(frame).substr(kLengthBytes));
  AppendBigEndian32(&frame, crc);
  return frame;
}

Status ParsePayload(const Frame& frame, google::protobuf::MessageLite* message) {
  if (message->ParseFromString(frame.payload)) return Status::Ok();
  return Status::Error("cannot parse " + FrameTypeName(frame.type) + " frame payload (" +
                       std::to_string(frame.payload.size()) + " bytes) as " +
                       message->GetTypeName() +
                       "; the peer sent a different message for this frame type or a protocol "
                       "version this build does not speak");
}

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

void FrameDecoder::Feed(std::string_view bytes) {
  if (error_) return;  // the stream is already broken; keep nothing more
  // Compacting only once at least half the buffer is consumed keeps the cost amortised O(1)
  // per byte while bounding the dead prefix to the live data's size.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) Compact();
  buffer_.append(bytes.data(), bytes.size());
}

void FrameDecoder::Compact() {
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  if (buffer_.empty() && buffer_.capacity() > kRetainedCapacity) std::string().swap(buffer_);
}

Status FrameDecoder::Fail(Status error) {
  error_ = error;
  buffer_.clear();
  consumed_ = 0;
  return error;
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (error_) return *error_;
  if (buffered() < kLengthBytes) return std::optional<Frame>();

  const char* start = buffer_.data() + consumed_;
  // The length is checked the moment its 4 bytes are here, before anything is reserved for the
  // frame: a garbage or hostile length must not make us allocate 4 GiB.
  const uint32_t length = ReadBigEndian32(start);
  // A TLS handshake record starts 0x16 0x03 and a minor version up to 4: read as a length, some
  // 369 MB, far above what a peer may send before it authenticated (1 MiB).
  if (length > max_frame_bytes_ && start[0] == 0x16 && start[1] == 0x03 &&
      static_cast<uint8_t>(start[2]) <= 4) {
    return Fail(Status::Error(
        "the peer speaks TLS and this end does not: configure TLS on both agents (tls: in the "
        "capture config, and in the apply config's upstream), or on neither"));
  }
  if (length > max_frame_bytes_) {
    return Fail(Status::Error("frame of " + std::to_string(length) +
                              " bytes exceeds the maximum of " + std::to_string(max_frame_bytes_) +
                              " (max_frame_bytes); the peer is not a Ferry agent or uses a larger "
                              "limit"));
  }
  if (length < kMinFrameLength) {
    return Fail(Status::Error("frame length " + std::to_string(length) +
                              " is below the minimum of " + std::to_string(kMinFrameLength) +
                              " (type byte + CRC); the peer is not speaking the Ferry protocol"));
  }
  if (buffered() > kLengthBytes) {
    const auto type = static_cast<uint8_t>(start[kLengthBytes]);
    if (!IsKnownType(type)) {
      return Fail(Status::Error("unknown frame type " + std::to_string(type) +
                                "; the peer is not a Ferry agent or speaks a newer protocol "
                                "version (this build speaks version " +
                                std::to_string(kProtocolVersion) + ")"));
    }
  }

  const size_t total = kLengthBytes + length;
  if (buffered() < total) {
    // The length passed the check above, so now it is safe to make room for the whole frame once
    // instead of growing the buffer piecemeal as the rest arrives.
    Compact();
    buffer_.reserve(total);
    return std::optional<Frame>();
  }

  const std::string_view body(start + kLengthBytes, length - kFrameTrailerBytes);  // type+payload
  const auto type = static_cast<FrameType>(body[0]);
  const uint32_t expected = ReadBigEndian32(start + kLengthBytes + body.size());
  const uint32_t actual = Crc32c(body);
  if (actual != expected) {
    return Fail(Status::Error("CRC mismatch on " + FrameTypeName(type) + " frame of " +
                              std::to_string(length) + " bytes: computed " + Hex32(actual) +
                              ", frame carries " + Hex32(expected) +
                              "; the bytes were corrupted in transit"));
  }

  Frame frame{type, std::string(body.substr(1))};
  consumed_ += total;
  if (consumed_ == buffer_.size()) Compact();  // cheap when everything was consumed
  return std::optional<Frame>(std::move(frame));
}

}  // namespace ferry::wire
