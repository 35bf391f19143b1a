#include "wire/frame.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "wire/crc32c.h"
#include "wire/ferry.pb.h"

// ---- Allocation probe -------------------------------------------------------------------------
// Replaces the global allocator for this test binary so a test can assert that the decoder never
// asked for a large block (the "check the length before allocating" invariant).
namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<size_t> g_largest_allocation{0};

void* Allocate(size_t size) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

// Records the largest single allocation made while alive.
class AllocationProbe {
 public:
  AllocationProbe() {
    g_largest_allocation = 0;
    g_track_allocations = true;
  }
  ~AllocationProbe() { g_track_allocations = false; }
  size_t largest() const { return g_largest_allocation.load(); }
};
}  // namespace

void* operator new(size_t size) { return Allocate(size); }
void* operator new[](size_t size) { return Allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace ferry::wire {
namespace {

Position Pg(const std::string& lsn) {
  Position position;
  position.set_engine("postgres");
  position.set_value(lsn);
  return position;
}

Changes SampleChanges(int rows, size_t text_bytes = 16) {
  Changes changes;
  Relation* relation = changes.add_changes()->mutable_relation();
  relation->set_id(7);
  relation->set_schema("public");
  relation->set_table("accounts");
  Column* id = relation->add_columns();
  id->set_name("id");
  id->set_source_type("int8");
  id->set_type(LOGICAL_TYPE_INT);
  id->set_key(true);
  Column* note = relation->add_columns();
  note->set_name("note");
  note->set_source_type("text");
  note->set_type(LOGICAL_TYPE_TEXT);
  for (int i = 0; i < rows; ++i) {
    RowChange* row = changes.add_changes()->mutable_row();
    row->set_op(RowChange::INSERT);
    row->set_relation_id(7);
    row->add_new_values()->set_int64(i);
    row->add_new_values()->set_text(std::string(text_bytes, static_cast<char>('a' + i % 26)));
  }
  return changes;
}

// One sample message per frame type, each with every interesting field set.
std::vector<std::pair<FrameType, std::unique_ptr<google::protobuf::MessageLite>>> SampleFrames() {
  std::vector<std::pair<FrameType, std::unique_ptr<google::protobuf::MessageLite>>> frames;
  auto hello = std::make_unique<Hello>();
  hello->set_protocol_version(kProtocolVersion);
  hello->set_subscriber_id("replica-1");
  hello->set_client_nonce(std::string(32, '\x5a'));
  hello->set_auth_proof(std::string(32, '\xa5'));
  *hello->mutable_resume_from() = Pg("16/B374D848");
  hello->add_tables("public.accounts");
  frames.emplace_back(FrameType::kHello, std::move(hello));
  auto welcome = std::make_unique<Welcome>();
  welcome->set_protocol_version(kProtocolVersion);
  welcome->set_node("pg-a");
  welcome->set_engine("postgres");
  frames.emplace_back(FrameType::kWelcome, std::move(welcome));
  auto begin = std::make_unique<Begin>();
  *begin->mutable_position() = Pg("0/16B3748");
  begin->set_commit_time_us(1700000000123456);
  begin->set_origin("pg-b");
  begin->set_xid(4242);
  frames.emplace_back(FrameType::kBegin, std::move(begin));
  frames.emplace_back(FrameType::kChanges, std::make_unique<Changes>(SampleChanges(3)));
  auto commit = std::make_unique<Commit>();
  *commit->mutable_position() = Pg("0/16B3748");
  commit->set_commit_time_us(1700000000123456);
  frames.emplace_back(FrameType::kCommit, std::move(commit));
  auto heartbeat = std::make_unique<Heartbeat>();
  *heartbeat->mutable_source_head() = Pg("0/16B37FF");
  heartbeat->set_source_time_us(1700000001000000);
  heartbeat->set_idle(true);
  frames.emplace_back(FrameType::kHeartbeat, std::move(heartbeat));
  auto ack = std::make_unique<Ack>();
  *ack->mutable_position() = Pg("0/16B3748");
  frames.emplace_back(FrameType::kAck, std::move(ack));
  auto error = std::make_unique<Error>();
  error->set_code("auth");
  error->set_message("wrong token for subscriber replica-1");
  frames.emplace_back(FrameType::kError, std::move(error));
  auto challenge = std::make_unique<Challenge>();
  challenge->set_protocol_version(kProtocolVersion);
  challenge->set_nonce(std::string(32, '\x01'));
  frames.emplace_back(FrameType::kChallenge, std::move(challenge));
  return frames;
}

// Drains every complete frame; fails the test on a decoder error.
std::vector<Frame> DrainFrames(FrameDecoder& decoder) {
  std::vector<Frame> frames;
  for (;;) {
    Result<std::optional<Frame>> next = decoder.Next();
    EXPECT_TRUE(next.ok()) << next.message();
    if (!next.ok() || !next->has_value()) return frames;
    frames.push_back(std::move(**next));
  }
}

// The first error Next() reports after feeding `bytes`, or "" if there is none.
std::string DecodeError(std::string_view bytes, size_t max_frame_bytes = kDefaultMaxFrameBytes) {
  FrameDecoder decoder(max_frame_bytes);
  decoder.Feed(bytes);
  for (;;) {
    Result<std::optional<Frame>> next = decoder.Next();
    if (!next.ok()) return next.message();
    if (!next->has_value()) return "";
  }
}

std::string EmptyAckFrame() { return EncodeFrame(FrameType::kAck, Ack()); }

// ---- Encoding ---------------------------------------------------------------------------------

TEST(FrameTest, EncodesTheDocumentedByteLayout) {
  Ack ack;
  *ack.mutable_position() = Pg("0/1");
  // Computed independently (Python, bitwise CRC-32C) from the layout in wire/PROTOCOL.md.
  const std::string expected(
      "\x00\x00\x00\x16\x07\x0a\x0f\x0a\x08postgres\x12\x03"
      "0/1\x19\x75\x02\x3e",
      26);
  EXPECT_EQ(EncodeFrame(FrameType::kAck, ack), expected);
}

TEST(FrameTest, EmptyPayloadFrameIsNineBytes) {
  const std::string frame = EmptyAckFrame();
  EXPECT_EQ(frame, std::string("\x00\x00\x00\x05\x07\x86\xB7\x37\xBA", 9));
}

TEST(FrameTest, FrameTypeNames) {
  EXPECT_EQ(FrameTypeName(FrameType::kHello), "Hello");
  EXPECT_EQ(FrameTypeName(FrameType::kWelcome), "Welcome");
  EXPECT_EQ(FrameTypeName(FrameType::kBegin), "Begin");
  EXPECT_EQ(FrameTypeName(FrameType::kChanges), "Changes");
  EXPECT_EQ(FrameTypeName(FrameType::kCommit), "Commit");
  EXPECT_EQ(FrameTypeName(FrameType::kHeartbeat), "Heartbeat");
  EXPECT_EQ(FrameTypeName(FrameType::kAck), "Ack");
  EXPECT_EQ(FrameTypeName(FrameType::kError), "Error");
  EXPECT_EQ(FrameTypeName(FrameType::kChallenge), "Challenge");
  EXPECT_EQ(FrameTypeName(static_cast<FrameType>(42)), "unknown(42)");
  EXPECT_EQ(FrameTypeName(static_cast<FrameType>(0)), "unknown(0)");
}

// ---- Round trips ------------------------------------------------------------------------------

TEST(FrameTest, RoundTripsEveryFrameType) {
  for (const auto& [type, message] : SampleFrames()) {
    SCOPED_TRACE(FrameTypeName(type));
    const std::string bytes = EncodeFrame(type, *message);
    FrameDecoder decoder;
    decoder.Feed(bytes);
    std::vector<Frame> frames = DrainFrames(decoder);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].type, type);
    EXPECT_EQ(frames[0].payload, message->SerializeAsString());
    EXPECT_EQ(decoder.buffered(), 0u);

    std::unique_ptr<google::protobuf::MessageLite> parsed(message->New());
    ASSERT_TRUE(ParsePayload(frames[0], parsed.get()).ok());
    EXPECT_EQ(parsed->SerializeAsString(), message->SerializeAsString());
  }
}

TEST(FrameTest, ParsedChangesKeepTheirValues) {
  FrameDecoder decoder;
  decoder.Feed(EncodeFrame(FrameType::kChanges, SampleChanges(2)));
  std::vector<Frame> frames = DrainFrames(decoder);
  ASSERT_EQ(frames.size(), 1u);
  Changes parsed;
  ASSERT_TRUE(ParsePayload(frames[0], &parsed).ok());
  ASSERT_EQ(parsed.changes_size(), 3);
  EXPECT_EQ(parsed.changes(0).relation().table(), "accounts");
  EXPECT_TRUE(parsed.changes(0).relation().columns(0).key());
  EXPECT_EQ(parsed.changes(2).row().op(), RowChange::INSERT);
  EXPECT_EQ(parsed.changes(2).row().new_values(0).int64(), 1);
  EXPECT_EQ(parsed.changes(2).row().new_values(1).text(), std::string(16, 'b'));
}

TEST(FrameTest, FeedingOneByteAtATimeCompletesEachFrameOnItsLastByte) {
  std::string stream;
  std::vector<size_t> frame_ends;
  for (const auto& [type, message] : SampleFrames()) {
    stream += EncodeFrame(type, *message);
    frame_ends.push_back(stream.size());
  }
  FrameDecoder decoder;
  std::vector<size_t> completed_at;
  std::vector<FrameType> types;
  for (size_t i = 0; i < stream.size(); ++i) {
    decoder.Feed(stream.substr(i, 1));
    for (const Frame& frame : DrainFrames(decoder)) {
      completed_at.push_back(i + 1);
      types.push_back(frame.type);
    }
  }
  EXPECT_EQ(completed_at, frame_ends);
  EXPECT_EQ(types,
            (std::vector<FrameType>{FrameType::kHello, FrameType::kWelcome, FrameType::kBegin,
                                    FrameType::kChanges, FrameType::kCommit, FrameType::kHeartbeat,
                                    FrameType::kAck, FrameType::kError, FrameType::kChallenge}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameTest, ManyFramesInOneFeed) {
  std::string stream;
  for (int i = 0; i < 1000; ++i) {
    Ack ack;
    *ack.mutable_position() = Pg("0/" + std::to_string(i));
    stream += EncodeFrame(FrameType::kAck, ack);
  }
  FrameDecoder decoder;
  decoder.Feed(stream);
  std::vector<Frame> frames = DrainFrames(decoder);
  ASSERT_EQ(frames.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    Ack ack;
    ASSERT_TRUE(ParsePayload(frames[i], &ack).ok());
    ASSERT_EQ(ack.position().value(), "0/" + std::to_string(i));
  }
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameTest, TruncatedFrameWaitsForTheRest) {
  const std::string frame = EncodeFrame(FrameType::kChanges, SampleChanges(5));
  FrameDecoder decoder;
  decoder.Feed(std::string_view(frame).substr(0, frame.size() - 1));
  Result<std::optional<Frame>> next = decoder.Next();
  ASSERT_TRUE(next.ok()) << next.message();
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.buffered(), frame.size() - 1);
  // Asking again without new bytes changes nothing.
  next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());

  decoder.Feed(std::string_view(frame).substr(frame.size() - 1));
  std::vector<Frame> frames = DrainFrames(decoder);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, FrameType::kChanges);
}

TEST(FrameTest, FewerThanFourBytesIsNotAFrame) {
  FrameDecoder decoder;
  decoder.Feed(std::string("\x00\x00\x00", 3));
  Result<std::optional<Frame>> next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.buffered(), 3u);
}

// ---- Corruption and hostile input -------------------------------------------------------------

TEST(FrameTest, FlippedPayloadBitIsACrcMismatch) {
  std::string frame = EncodeFrame(FrameType::kChanges, SampleChanges(2));
  frame[kFrameHeaderBytes + 3] ^= 0x01;
  const std::string error = DecodeError(frame);
  EXPECT_NE(
      error.find("CRC mismatch on Changes frame of " + std::to_string(frame.size() - 4) + " bytes"),
      std::string::npos)
      << error;
  EXPECT_NE(error.find("corrupted in transit"), std::string::npos) << error;
}

TEST(FrameTest, FlippedCrcBitIsACrcMismatch) {
  std::string frame = EmptyAckFrame();
  frame.back() ^= 0x80;
  EXPECT_EQ(DecodeError(frame),
            "CRC mismatch on Ack frame of 5 bytes: computed 0x86B737BA, frame carries 0x86B7373A; "
            "the bytes were corrupted in transit");
}

TEST(FrameTest, FlippedTypeByteIsACrcMismatch) {
  // Ack (7) -> Commit (5): still a known type, so only the CRC over the type byte catches it.
  std::string frame = EmptyAckFrame();
  frame[4] = 5;
  EXPECT_NE(DecodeError(frame).find("CRC mismatch on Commit frame"), std::string::npos);
}

TEST(FrameTest, ErrorIsStickyAndNoLaterFrameComesOut) {
  std::string bad = EmptyAckFrame();
  bad.back() ^= 1;
  FrameDecoder decoder;
  decoder.Feed(bad + EmptyAckFrame());
  Result<std::optional<Frame>> first = decoder.Next();
  ASSERT_FALSE(first.ok());
  decoder.Feed(EmptyAckFrame());
  Result<std::optional<Frame>> second = decoder.Next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.message(), first.message());
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameTest, OversizedLengthIsRefusedBeforeAllocating) {
  FrameDecoder decoder(1 << 20);
  AllocationProbe probe;
  decoder.Feed(std::string("\xFF\xFF\xFF\xFF\x04", 5));
  Result<std::optional<Frame>> next = decoder.Next();
  const size_t largest = probe.largest();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.message(),
            "frame of 4294967295 bytes exceeds the maximum of 1048576 (max_frame_bytes); the peer "
            "is not a Ferry agent or uses a larger limit");
  EXPECT_LT(largest, 4096u);
}

TEST(FrameTest, OversizedLengthIsRefusedFromItsFourBytesAlone) {
  EXPECT_EQ(DecodeError(std::string("\xFF\xFF\xFF\xFF", 4)),
            "frame of 4294967295 bytes exceeds the maximum of 16777216 (max_frame_bytes); the "
            "peer is not a Ferry agent or uses a larger limit");
}

// A TLS client talking to a plain agent: its ClientHello record read as a frame length is some
// 369 MB, and the error says what is wrong instead of quoting the number.
TEST(FrameTest, ATlsHandshakeRecordIsNamedAsTls) {
  const std::string client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  const std::string error = DecodeError(client_hello, 1 << 20);
  EXPECT_NE(error.find("the peer speaks TLS and this end does not"), std::string::npos) << error;
  EXPECT_NE(error.find("configure TLS on both agents"), std::string::npos) << error;
  // Not every large length is TLS.
  EXPECT_NE(DecodeError(std::string("\x16\x05\x01\x02", 4), 1 << 20).find("exceeds the maximum"),
            std::string::npos);
}

TEST(FrameTest, LengthExactlyAtTheLimitIsAccepted) {
  Changes changes = SampleChanges(0);
  const std::string probe = EncodeFrame(FrameType::kChanges, changes);
  const size_t limit = probe.size() - 4;
  FrameDecoder at_limit(limit);
  at_limit.Feed(probe);
  EXPECT_EQ(DrainFrames(at_limit).size(), 1u);
  EXPECT_NE(
      DecodeError(probe, limit - 1).find("exceeds the maximum of " + std::to_string(limit - 1)),
      std::string::npos);
}

TEST(FrameTest, LengthBelowFiveIsRefused) {
  EXPECT_EQ(DecodeError(std::string("\x00\x00\x00\x04", 4)),
            "frame length 4 is below the minimum of 5 (type byte + CRC); the peer is not speaking "
            "the Ferry protocol");
  EXPECT_NE(DecodeError(std::string(4, '\0')).find("frame length 0 is below"), std::string::npos);
}

TEST(FrameTest, UnknownTypeIsRefusedAsSoonAsItsByteArrives) {
  for (int type : {0, 10, 200, 255}) {
    std::string header("\x00\x00\x00\x05", 4);
    header.push_back(static_cast<char>(type));
    EXPECT_EQ(DecodeError(header), "unknown frame type " + std::to_string(type) +
                                       "; the peer is not a Ferry agent or speaks a newer "
                                       "protocol version (this build speaks version " +
                                       std::to_string(kProtocolVersion) + ")");
  }
}

TEST(FrameTest, HttpRequestIsRefused) {
  // 'GET ' read as a length is 1195725856.
  EXPECT_EQ(DecodeError("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "frame of 1195725856 bytes exceeds the maximum of 16777216 (max_frame_bytes); the "
            "peer is not a Ferry agent or uses a larger limit");
}

TEST(FrameTest, RandomGarbageNeverYieldsAFrame) {
  std::mt19937 random(7);
  int errors = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(random() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    FrameDecoder decoder(4096);
    decoder.Feed(garbage);
    Result<std::optional<Frame>> next = decoder.Next();
    if (!next.ok()) {
      ++errors;
      continue;
    }
    // Without a valid CRC nothing may come out; at most the decoder waits for more bytes.
    ASSERT_FALSE(next->has_value()) << "round " << round;
    ASSERT_LE(decoder.buffered(), garbage.size());
  }
  EXPECT_GT(errors, 1500);
}

TEST(FrameTest, ParsePayloadNamesTheFrameAndMessage) {
  Frame frame{FrameType::kChanges, std::string("\xFF\xFF\xFF", 3)};
  Changes changes;
  Status status = ParsePayload(frame, &changes);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "cannot parse Changes frame payload (3 bytes) as ferry.wire.Changes; the peer sent a "
            "different message for this frame type or a protocol version this build does not "
            "speak");
}

// ---- Memory -----------------------------------------------------------------------------------

TEST(FrameTest, BufferCompactsWhileStreaming) {
  // 40 MB of frames fed in odd-sized chunks: without compaction the buffer would grow to the
  // whole stream; with it, no block larger than a few frames plus a chunk is ever needed.
  const std::string frame = EncodeFrame(FrameType::kChanges, SampleChanges(100, 100));
  const size_t frames_wanted = (40u << 20) / frame.size();
  std::string chunk;
  for (size_t i = 0; i < 7; ++i) chunk += frame;
  const size_t chunk_bytes = 3 * frame.size() + 1234;

  FrameDecoder decoder;
  AllocationProbe probe;
  size_t produced = 0, fed = 0, received = 0;
  while (received < frames_wanted) {
    const size_t offset = fed % frame.size();
    decoder.Feed(std::string_view(chunk).substr(offset, chunk_bytes));
    fed += chunk_bytes;
    produced = fed / frame.size();
    for (;;) {
      Result<std::optional<Frame>> next = decoder.Next();
      ASSERT_TRUE(next.ok()) << next.message();
      if (!next->has_value()) break;
      ++received;
    }
    ASSERT_EQ(received, produced);
    ASSERT_LT(decoder.buffered(), frame.size());
  }
  EXPECT_LT(probe.largest(), 16 * frame.size());
}

TEST(FrameTest, LargeFrameIsReservedOnceItsLengthIsKnown) {
  const std::string frame = EncodeFrame(FrameType::kChanges, SampleChanges(1000, 1000));
  FrameDecoder decoder;
  decoder.Feed(std::string_view(frame).substr(0, 5));
  ASSERT_TRUE(decoder.Next().ok());
  AllocationProbe probe;  // from here on the buffer must not need to grow again
  for (size_t offset = 5; offset < frame.size(); offset += 4096) {
    decoder.Feed(std::string_view(frame).substr(offset, 4096));
  }
  EXPECT_LE(probe.largest(), 0u);
  std::vector<Frame> frames = DrainFrames(decoder);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.size(), frame.size() - 9);
}

}  // namespace
}  // namespace ferry::wire
