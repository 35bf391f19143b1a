// libFuzzer target for the frame decoder: arbitrary bytes, fed in arbitrary chunk sizes, must
// never crash, never allocate past the limit, and decode the same no matter how they are split;
// every frame that comes out is parsed as the message its type carries.
// Build: CC=clang CXX=clang++ cmake -DFERRY_FUZZ=ON ...; run: frame_decoder_fuzz -max_total_time=30
#include <fuzzer/FuzzedDataProvider.h>
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wire/crc32c.h"
#include "wire/ferry.pb.h"
#include "wire/frame.h"

namespace {

using ferry::wire::Frame;
using ferry::wire::FrameDecoder;
using ferry::wire::FrameType;

void Check(bool condition) {
  if (!condition) std::abort();
}

std::unique_ptr<google::protobuf::MessageLite> PayloadMessage(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return std::make_unique<ferry::wire::Hello>();
    case FrameType::kWelcome:
      return std::make_unique<ferry::wire::Welcome>();
    case FrameType::kBegin:
      return std::make_unique<ferry::wire::Begin>();
    case FrameType::kChanges:
      return std::make_unique<ferry::wire::Changes>();
    case FrameType::kCommit:
      return std::make_unique<ferry::wire::Commit>();
    case FrameType::kHeartbeat:
      return std::make_unique<ferry::wire::Heartbeat>();
    case FrameType::kAck:
      return std::make_unique<ferry::wire::Ack>();
    case FrameType::kError:
      return std::make_unique<ferry::wire::Error>();
    case FrameType::kChallenge:
      return std::make_unique<ferry::wire::Challenge>();
  }
  std::abort();  // the decoder must never hand out an unknown type
}

// Parses the payload as its message; a message that parsed must survive a re-encode.
void ParseFrame(const Frame& frame) {
  std::unique_ptr<google::protobuf::MessageLite> message = PayloadMessage(frame.type);
  if (!ferry::wire::ParsePayload(frame, message.get()).ok()) return;
  FrameDecoder decoder;
  decoder.Feed(ferry::wire::EncodeFrame(frame.type, *message));
  ferry::Result<std::optional<Frame>> again = decoder.Next();
  Check(again.ok() && again->has_value() && (*again)->type == frame.type);
  std::unique_ptr<google::protobuf::MessageLite> reparsed(message->New());
  Check(ferry::wire::ParsePayload(**again, reparsed.get()).ok());
}

struct Outcome {
  std::vector<Frame> frames;
  bool failed = false;
};

// Drains `decoder`; returns false once it reports an error.
bool Drain(FrameDecoder& decoder, size_t max_frame_bytes, Outcome& outcome) {
  for (;;) {
    ferry::Result<std::optional<Frame>> next = decoder.Next();
    if (!next.ok()) {
      Check(!next.message().empty());
      outcome.failed = true;
      return false;
    }
    if (!next->has_value()) return true;
    Frame& frame = **next;
    Check(1 + frame.payload.size() + ferry::wire::kFrameTrailerBytes <= max_frame_bytes);
    outcome.frames.push_back(std::move(frame));
  }
}

}  // namespace

// Builds well-formed frames (type byte and payload from the input, correct length and CRC), so
// the fuzzer reaches payload parsing, which random bytes almost never do: a random CRC matches
// once in 2^32. Some frames get one bit flipped to exercise the CRC check on plausible frames.
std::string SynthesizeFrames(FuzzedDataProvider& input) {
  std::string stream;
  while (input.remaining_bytes() > 0) {
    const uint8_t type = input.ConsumeIntegral<uint8_t>();
    const bool corrupt = input.ConsumeProbability<float>() < 0.05f;
    const std::string payload = input.ConsumeRandomLengthString(4096);
    std::string body(1, static_cast<char>(type));
    body += payload;
    const uint32_t length = static_cast<uint32_t>(body.size() + ferry::wire::kFrameTrailerBytes);
    const uint32_t crc = ferry::wire::Crc32c(body);
    std::string frame;
    for (int shift = 24; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>(length >> shift));
    frame += body;
    for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(crc >> shift));
    if (corrupt) frame[input.ConsumeIntegralInRange<size_t>(0, frame.size() - 1)] ^= 1;
    stream += frame;
  }
  return stream;
}

// Protobuf logs every invalid UTF-8 string it refuses; on fuzz input that is noise.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  // Mostly small limits, so the oversize path is reached as often as the happy one.
  const size_t max_frame_bytes = input.ConsumeBool() ? input.ConsumeIntegralInRange<size_t>(0, 8192)
                                                     : ferry::wire::kDefaultMaxFrameBytes;
  std::minstd_rand chunk_sizes(input.ConsumeIntegral<uint32_t>());
  const std::string stream =
      input.ConsumeBool() ? SynthesizeFrames(input) : input.ConsumeRemainingBytesAsString();

  FrameDecoder chunked(max_frame_bytes);
  Outcome chunked_outcome;
  size_t fed = 0;
  while (fed < stream.size()) {
    const size_t chunk = std::min<size_t>(1 + chunk_sizes() % 97, stream.size() - fed);
    chunked.Feed(std::string_view(stream).substr(fed, chunk));
    fed += chunk;
    if (!Drain(chunked, max_frame_bytes, chunked_outcome)) break;
    // Never more held than one frame's worth plus the chunk that just arrived.
    Check(chunked.buffered() <= max_frame_bytes + 4 + chunk);
  }

  // The same bytes in one piece must decode identically.
  FrameDecoder whole(max_frame_bytes);
  Outcome whole_outcome;
  whole.Feed(std::string_view(stream).substr(0, fed));
  Drain(whole, max_frame_bytes, whole_outcome);
  Check(whole_outcome.failed == chunked_outcome.failed);
  Check(whole_outcome.frames.size() == chunked_outcome.frames.size());
  for (size_t i = 0; i < whole_outcome.frames.size(); ++i) {
    Check(whole_outcome.frames[i].type == chunked_outcome.frames[i].type);
    Check(whole_outcome.frames[i].payload == chunked_outcome.frames[i].payload);
    ParseFrame(whole_outcome.frames[i]);
  }
  return 0;
}
