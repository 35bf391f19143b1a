// MySQL/MariaDB binlog events to Ferry change events. Layouts follow MySQL's libbinlogevents and
// MariaDB's log_event.h; every read is bounds-checked because the bytes come from the network or
// from a file an operator pointed us at.
//
// Transactions ("event groups"):
//   MariaDB: GTID [BEGIN] ... XID | COMMIT | ROLLBACK, or GTID(FL_STANDALONE) + one DDL query
//   MySQL:   GTID/ANONYMOUS_GTID BEGIN ... XID | COMMIT, or GTID + one DDL query
//   old:     BEGIN ... XID | COMMIT
// Begin is emitted lazily, just before the group's first row change, so empty and DDL-only groups
// produce nothing; their GTIDs still advance the state. Begin.xid carries the GTID sequence number
// (MariaDB seq_no, MySQL gno) because the binlog XID only arrives with the commit, after the rows
// have been streamed; it is 0 for transactions without a GTID.
#include "capture/mysql/binlog_decoder.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <tuple>
#include <utility>

#include "wire/position.h"

namespace ferry::capture::mysql {
namespace {

// Event type codes (MySQL libbinlogevents Log_event_type, MariaDB log_event.h).
enum EventType : uint8_t {
  kQuery = 2,
  kStop = 3,
  kRotate = 4,
  kIntvar = 5,
  kRand = 13,
  kUserVar = 14,
  kFormatDescription = 15,
  kXid = 16,
  kTableMap = 19,
  kWriteRowsV1 = 23,
  kUpdateRowsV1 = 24,
  kDeleteRowsV1 = 25,
  kIncident = 26,
  kHeartbeat = 27,
  kIgnorable = 28,
  kRowsQuery = 29,
  kWriteRows = 30,
  kUpdateRows = 31,
  kDeleteRows = 32,
  kMySqlGtid = 33,
  kAnonymousGtid = 34,
  kPreviousGtids = 35,
  kTransactionContext = 36,
  kViewChange = 37,
  kXaPrepare = 38,
  kPartialUpdateRows = 39,
  kTransactionPayload = 40,
  kHeartbeatV2 = 41,
  kAnnotateRows = 160,
  kBinlogCheckpoint = 161,
  kMariaGtid = 162,
  kGtidList = 163,
  kStartEncryption = 164,
  kQueryCompressed = 165,
  kWriteRowsCompressedV1 = 166,
  kUpdateRowsCompressedV1 = 167,
  kDeleteRowsCompressedV1 = 168,
  kWriteRowsCompressed = 169,
  kUpdateRowsCompressed = 170,
  kDeleteRowsCompressed = 171,
};

constexpr size_t kHeaderSize = 19;
constexpr size_t kChecksumSize = 4;
constexpr size_t kFlagsOffset = 17;         // of the 2-byte flags in the common header
constexpr uint8_t kBinlogInUseFlag = 0x01;  // LOG_EVENT_BINLOG_IN_USE_F (FDE only; see Crc32Of)
constexpr uint16_t kArtificialFlag = 0x20;  // LOG_EVENT_ARTIFICIAL_F: not at this log position
constexpr uint16_t kIgnorableFlag = 0x80;   // LOG_EVENT_IGNORABLE_F
constexpr uint8_t kChecksumCrc32 = 1;
// MariaDB GTID flags.
constexpr uint8_t kGtidStandalone = 0x01;
constexpr uint8_t kGtidGroupCommitId = 0x02;
constexpr uint8_t kGtidPreparedXa = 0x40;
constexpr uint8_t kGtidCompletedXa = 0x80;
// Largest event or decompressed body accepted: MySQL's and MariaDB's max_allowed_packet ceiling.
// Garbage lengths beyond it are refused before anything is allocated.
constexpr uint64_t kMaxEventSize = 1ull << 30;

constexpr char kXaUnsupported[] = "XA transactions are not supported yet";

const char* TypeName(uint8_t type) {
  switch (type) {
    case kQuery:
      return "QUERY";
    case kRotate:
      return "ROTATE";
    case kFormatDescription:
      return "FORMAT_DESCRIPTION";
    case kXid:
      return "XID";
    case kTableMap:
      return "TABLE_MAP";
    case kWriteRowsV1:
    case kWriteRows:
      return "WRITE_ROWS";
    case kUpdateRowsV1:
    case kUpdateRows:
      return "UPDATE_ROWS";
    case kDeleteRowsV1:
    case kDeleteRows:
      return "DELETE_ROWS";
    case kIncident:
      return "INCIDENT";
    case kHeartbeat:
    case kHeartbeatV2:
      return "HEARTBEAT";
    case kMySqlGtid:
      return "GTID";
    case kAnonymousGtid:
      return "ANONYMOUS_GTID";
    case kPreviousGtids:
      return "PREVIOUS_GTIDS";
    case kTransactionPayload:
      return "TRANSACTION_PAYLOAD";
    case kMariaGtid:
      return "GTID (MariaDB)";
    case kGtidList:
      return "GTID_LIST";
    case kQueryCompressed:
      return "QUERY_COMPRESSED";
    case kWriteRowsCompressedV1:
    case kWriteRowsCompressed:
      return "WRITE_ROWS_COMPRESSED";
    case kUpdateRowsCompressedV1:
    case kUpdateRowsCompressed:
      return "UPDATE_ROWS_COMPRESSED";
    case kDeleteRowsCompressedV1:
    case kDeleteRowsCompressed:
      return "DELETE_ROWS_COMPRESSED";
    default:
      return "binlog";
  }
}

// A bounds-checked little-endian reader. Each read returns false (and consumes nothing) when the
// bytes are not there; callers turn that into an error naming the event and field.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  std::string_view rest() const { return data_.substr(pos_); }

  bool Skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool Bytes(size_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Uint(size_t width, T& out) {
    if (width > remaining()) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += width;
    out = static_cast<T>(value);
    return true;
  }
  // MySQL's length-encoded integer (net_field_length): 1, 3, 4 or 9 bytes.
  bool PackedInt(uint64_t& out) {
    if (remaining() < 1) return false;
    const uint8_t first = static_cast<uint8_t>(data_[pos_]);
    if (first < 251) {
      out = first;
      ++pos_;
      return true;
    }
    const size_t width = first == 0xfc ? 2 : first == 0xfd ? 3 : first == 0xfe ? 8 : 0;
    if (width == 0 || remaining() < 1 + width) return false;  // 0xfb (NULL) and 0xff: invalid
    ++pos_;
    return Uint(width, out);
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

uint32_t ReadLe32(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

uint32_t Crc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed in chunks so that a >4 GiB view could not wrap (events are far
  // smaller, but the loop costs nothing).
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

// The CRC32 an event's checksum was computed over: all its bytes but the checksum. A server sets
// LOG_EVENT_BINLOG_IN_USE_F in the FORMAT_DESCRIPTION_EVENT of the binlog it is writing *after*
// computing that event's checksum, and clears it in place when it closes the file; the
// checksum of an FDE is therefore computed with the flag cleared, as the servers and
// mysqlbinlog verify it (MySQL's Log_event_footer::event_checksum_test, MariaDB's
// event_checksum_test). Without this, a copy of a binlog still open on its server would read as
// corrupt. No other event has a flag changed after its checksum was computed.
uint32_t Crc32Of(std::string_view event, bool format_description) {
  const std::string_view covered = event.substr(0, event.size() - kChecksumSize);
  if (!format_description || !(static_cast<uint8_t>(covered[kFlagsOffset]) & kBinlogInUseFlag)) {
    return Crc32(covered);
  }
  std::string as_written(covered);
  as_written[kFlagsOffset] = static_cast<char>(as_written[kFlagsOffset] & ~kBinlogInUseFlag);
  return Crc32(as_written);
}

std::string Hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

std::string UuidText(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    const uint8_t byte = static_cast<uint8_t>(bytes[i]);
    text += kDigits[byte >> 4];
    text += kDigits[byte & 15];
  }
  return text;
}

// "X.Y.Z..." -> {X, Y, Z}; missing parts are 0.
std::tuple<int, int, int> VersionNumbers(std::string_view version) {
  int parts[3] = {0, 0, 0};
  size_t i = 0;
  for (int& part : parts) {
    while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i]))) {
      part = std::min(part * 10 + (version[i] - '0'), 100000);
      ++i;
    }
    if (i >= version.size() || version[i] != '.') break;
    ++i;
  }
  return {parts[0], parts[1], parts[2]};
}

// Binlogs of MySQL 5.6.1+ and MariaDB 5.3+ end their FORMAT_DESCRIPTION_EVENT with the checksum
// algorithm byte and a 4-byte checksum, whatever the algorithm.
bool HasChecksumAlgorithm(std::string_view server_version) {
  const bool mariadb = server_version.find("MariaDB") != std::string_view::npos;
  return VersionNumbers(server_version) >=
         (mariadb ? std::make_tuple(5, 3, 0) : std::make_tuple(5, 6, 1));
}

// Inflates MariaDB's compressed binlog payload (log_bin_compress): one header byte 0x8L (high bit
// set, algorithm 0 = zlib in bits 4-6, L = 1..4 bytes of length), the uncompressed length
// big-endian, then a zlib stream. Grows the output with the data actually produced, never to the
// declared length up front, so a lying header cannot make us allocate.
Result<std::string> MariaDbUncompress(std::string_view data) {
  if (data.empty() || (static_cast<uint8_t>(data[0]) & 0xf0) != 0x80) {
    return Status::Error("compressed data does not start with a zlib header byte (0x8N)");
  }
  const size_t length_bytes = static_cast<uint8_t>(data[0]) & 0x07;
  if (length_bytes < 1 || length_bytes > 4 || data.size() < 1 + length_bytes) {
    return Status::Error("compressed data has a bad length header");
  }
  uint64_t declared = 0;
  for (size_t i = 0; i < length_bytes; ++i)
    declared = declared << 8 | static_cast<uint8_t>(data[1 + i]);
  if (declared > kMaxEventSize) return Status::Error("declared uncompressed size is too large");
  data.remove_prefix(1 + length_bytes);

  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Status::Error("zlib inflateInit failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(data.size(), UINT32_MAX));
  int rc = Z_OK;
  while (rc == Z_OK) {
    const size_t chunk = std::min<uint64_t>(64 * 1024, declared - out.size() + 1);
    const size_t old_size = out.size();
    out.resize(old_size + chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old_size + (chunk - zs.avail_out));
    if (out.size() > declared) rc = Z_DATA_ERROR;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || out.size() != declared) {
    return Status::Error("zlib data is corrupt or truncated (expected " + std::to_string(declared) +
                         " bytes)");
  }
  return out;
}

// Reads a zstd stream in pieces so that a compressed transaction is never inflated whole.
class ZstdReader {
 public:
  explicit ZstdReader(std::string_view input)
      : ctx_(ZSTD_createDCtx()), in_{input.data(), input.size(), 0} {}
  ~ZstdReader() { ZSTD_freeDCtx(ctx_); }
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;

  // Fills dst[0, n); returns how many bytes it got (fewer only at the end of the stream).
  Result<size_t> Read(char* dst, size_t n) {
    if (ctx_ == nullptr) return Status::Error("cannot allocate a zstd context");
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos < out.size) {
      const size_t in_before = in_.pos, out_before = out.pos;
      const size_t rc = ZSTD_decompressStream(ctx_, &out, &in_);
      if (ZSTD_isError(rc)) return Status::Error(std::string("zstd: ") + ZSTD_getErrorName(rc));
      // No progress: the input is used up. A new call after a finished frame asks for the next
      // frame's header, so whether the stream ended cleanly is what the last productive call said.
      if (in_.pos == in_before && out.pos == out_before) break;
      last_rc_ = rc;
    }
    if (out.pos < out.size && last_rc_ != 0) {
      return Status::Error("zstd: the compressed payload is truncated");
    }
    return out.pos;
  }

 private:
  ZSTD_DCtx* ctx_;
  ZSTD_inBuffer in_;
  size_t last_rc_ = 0;
};

// One event, as the decoder sees it after the checksum is verified and stripped.
struct Event {
  uint32_t timestamp = 0;
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t size = 0;
  uint32_t log_pos = 0;
  uint16_t flags = 0;
  uint64_t start = 0;     // offset of the event in its binlog file (or of its TRANSACTION_PAYLOAD)
  std::string_view body;  // after the common header, without the checksum
  bool inner = false;     // decoded from inside a TRANSACTION_PAYLOAD
};

Event ParseHeader(std::string_view bytes) {
  Event ev;
  Cursor in(bytes);
  in.Uint(4, ev.timestamp);
  in.Uint(1, ev.type);
  in.Uint(4, ev.server_id);
  in.Uint(4, ev.size);
  in.Uint(4, ev.log_pos);
  in.Uint(2, ev.flags);
  ev.body = bytes.substr(kHeaderSize);
  return ev;
}

bool StartsWithWord(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  }
  return text.size() == word.size() || !std::isalnum(static_cast<unsigned char>(text[word.size()]));
}

std::string_view TrimSql(std::string_view text) {
  while (!text.empty() &&
         (std::isspace(static_cast<unsigned char>(text.front())) || text.front() == ';')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) ||
                           text.back() == ';' || text.back() == '\0')) {
    text.remove_suffix(1);
  }
  return text;
}

enum class QueryKind { kBegin, kCommit, kRollback, kXa, kSavepoint, kOther };

QueryKind ClassifyQuery(std::string_view query) {
  query = TrimSql(query);
  auto is = [&](std::string_view word) {
    return query.size() == word.size() && StartsWithWord(query, word);
  };
  if (is("BEGIN") || is("START TRANSACTION")) return QueryKind::kBegin;
  if (is("COMMIT")) return QueryKind::kCommit;
  if (is("ROLLBACK")) return QueryKind::kRollback;
  if (StartsWithWord(query, "XA")) return QueryKind::kXa;
  if (StartsWithWord(query, "SAVEPOINT") || StartsWithWord(query, "RELEASE") ||
      StartsWithWord(query, "ROLLBACK")) {  // ROLLBACK TO [SAVEPOINT] x
    return QueryKind::kSavepoint;
  }
  return QueryKind::kOther;
}

enum class RowsKind { kWrite, kUpdate, kDelete };

struct RowsType {
  RowsKind kind;
  bool v2;          // has the variable-length extra data after the post-header
  bool compressed;  // MariaDB log_bin_compress: row images are zlib-compressed
};

std::optional<RowsType> RowsTypeOf(uint8_t type) {
  switch (type) {
    case kWriteRowsV1:
      return RowsType{RowsKind::kWrite, false, false};
    case kUpdateRowsV1:
      return RowsType{RowsKind::kUpdate, false, false};
    case kDeleteRowsV1:
      return RowsType{RowsKind::kDelete, false, false};
    case kWriteRows:
      return RowsType{RowsKind::kWrite, true, false};
    case kUpdateRows:
      return RowsType{RowsKind::kUpdate, true, false};
    case kDeleteRows:
      return RowsType{RowsKind::kDelete, true, false};
    case kWriteRowsCompressedV1:
      return RowsType{RowsKind::kWrite, false, true};
    case kUpdateRowsCompressedV1:
      return RowsType{RowsKind::kUpdate, false, true};
    case kDeleteRowsCompressedV1:
      return RowsType{RowsKind::kDelete, false, true};
    case kWriteRowsCompressed:
      return RowsType{RowsKind::kWrite, true, true};
    case kUpdateRowsCompressed:
      return RowsType{RowsKind::kUpdate, true, true};
    case kDeleteRowsCompressed:
      return RowsType{RowsKind::kDelete, true, true};
    default:
      return std::nullopt;
  }
}

std::vector<bool> ReadBitmap(std::string_view bytes, size_t bits) {
  std::vector<bool> bitmap(bits);
  for (size_t i = 0; i < bits; ++i) bitmap[i] = (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
  return bitmap;
}

}  // namespace

using Emit = std::function<Status(DecodedEvent&&)>;

struct BinlogDecoder::State {
  // The event group (transaction) being read.
  struct Group {
    bool open = false;
    bool awaiting_first = false;    // a GTID was read; its first statement has not arrived
    bool ends_after_first = false;  // that statement alone is the group (standalone DDL)
    bool emitted_begin = false;
    uint64_t start = 0;
    uint32_t timestamp = 0;
    uint64_t txid = 0;
    wire::Position position;
    std::optional<wire::MariaDbGtid> mariadb_gtid;
    std::optional<std::pair<std::string, uint64_t>> mysql_gtid;  // uuid, gno
  };

  explicit State(DecoderOptions o) : options(std::move(o)), file(options.file) {
    flavor = options.engine == wire::kEngineMySql ? BinlogFlavor::kMysql : BinlogFlavor::kMariadb;
    init_error = ParseStartState();
  }

  // The GTID state the reader resumed from; a bad one is reported by the first Decode.
  Status ParseStartState() {
    if (options.engine == wire::kEngineMariaDb) {
      Result<wire::MariaDbGtidState> state = wire::ParseMariaDbGtidState(options.gtid_state);
      if (!state.ok()) return state.status().WithContext("binlog decoder start position");
      mariadb_state = std::move(*state);
      return Status::Ok();
    }
    if (options.engine == wire::kEngineMySql) {
      Result<wire::MySqlGtidSet> set = wire::ParseMySqlGtidSet(options.gtid_state);
      if (!set.ok()) return set.status().WithContext("binlog decoder start position");
      mysql_state = std::move(*set);
      return Status::Ok();
    }
    return Status::Error("binlog decoder: engine must be \"mariadb\" or \"mysql\", not \"" +
                         options.engine + "\"");
  }

  DecoderOptions options;
  Status init_error = Status::Ok();

  // From the FORMAT_DESCRIPTION_EVENT.
  bool have_format = false;
  uint8_t checksum_alg = 0;
  std::vector<uint8_t> post_header_lengths;  // index: type - 1
  // Which server wrote the binlog: their TABLE_MAP metadata differs.
  BinlogFlavor flavor = BinlogFlavor::kMariadb;

  std::string file;
  uint64_t next_position = 4;  // the first event of every binlog file follows the magic

  std::map<uint64_t, TableMap> tables;                 // by table id; reset at rotation
  std::map<uint64_t, uint32_t> relation_ids;           // by table id; stable for the stream
  std::map<uint32_t, std::string> sent_relations;      // serialized Relation last emitted
  std::map<std::string, uint32_t> named_relation_ids;  // by "schema\0table" (TRUNCATE)
  uint32_t next_relation_id = 1;

  wire::MariaDbGtidState mariadb_state;
  wire::MySqlGtidSet mysql_state;
  Group group;

  // ---- helpers ---------------------------------------------------------------------------------

  std::string Where(uint64_t offset) const {
    return file.empty() ? "offset " + std::to_string(offset) : file + ":" + std::to_string(offset);
  }
  Status Malformed(const Event& ev, const std::string& what) const {
    return Status::Error("malformed " + std::string(TypeName(ev.type)) + " event at " +
                         Where(ev.start) + ": " + what);
  }
  uint8_t PostHeaderLength(uint8_t type, uint8_t fallback) const {
    if (!have_format || type == 0 || type > post_header_lengths.size()) return fallback;
    return post_header_lengths[type - 1];
  }

  wire::Position MakePosition(std::string value) const {
    wire::Position position;
    position.set_engine(options.engine);
    position.set_value(std::move(value));
    return position;
  }
  wire::Position CurrentPosition() const {
    if (!mariadb_state.empty()) return MakePosition(wire::FormatMariaDbGtidState(mariadb_state));
    if (!mysql_state.empty()) return MakePosition(wire::FormatMySqlGtidSet(mysql_state));
    return MakePosition(wire::FormatBinlogFilePosition(file, next_position));
  }

  // ---- framing ---------------------------------------------------------------------------------

  Status Decode(std::string_view bytes, const Emit& emit) {
    if (!init_error.ok()) return init_error;
    if (bytes.size() < kHeaderSize) {
      return Status::Error("binlog event at " + Where(next_position) + " is " +
                           std::to_string(bytes.size()) +
                           " bytes, shorter than the 19-byte event header");
    }
    Event ev = ParseHeader(bytes);
    ev.start = ev.log_pos >= ev.size && ev.log_pos != 0 ? ev.log_pos - ev.size : next_position;
    if (ev.size != bytes.size()) {
      return Status::Error("binlog event at " + Where(ev.start) + ": its header says " +
                           std::to_string(ev.size) + " bytes but " + std::to_string(bytes.size()) +
                           " arrived");
    }
    if (ev.type == kFormatDescription) FERRY_RETURN_IF_ERROR(ParseFormatDescription(ev));
    FERRY_RETURN_IF_ERROR(StripChecksum(ev, bytes));
    FERRY_RETURN_IF_ERROR(Dispatch(ev, emit));
    // log_pos is the end of this event in the source's file; 0 (or the artificial flag) marks
    // events that are not in the file at this place (fake ROTATE, FDE resent on connect). A ROTATE
    // sets the position itself.
    if (ev.type != kRotate && ev.log_pos != 0 && !(ev.flags & kArtificialFlag)) {
      next_position = ev.log_pos;
    }
    return Status::Ok();
  }

  Status StripChecksum(Event& ev, std::string_view bytes) {
    bool present = have_format && checksum_alg == kChecksumCrc32;
    if (!have_format) {
      // Before the FORMAT_DESCRIPTION_EVENT (only the fake ROTATE a server sends on connect) the
      // algorithm is unknown: the checksum is there when it matches.
      present = bytes.size() >= kHeaderSize + kChecksumSize &&
                Crc32(bytes.substr(0, bytes.size() - kChecksumSize)) ==
                    ReadLe32(bytes, bytes.size() - kChecksumSize);
    }
    if (!present) return Status::Ok();
    if (bytes.size() < kHeaderSize + kChecksumSize) {
      return Malformed(ev, "too short to hold its CRC32 checksum");
    }
    const uint32_t stored = ReadLe32(bytes, bytes.size() - kChecksumSize);
    const uint32_t computed = Crc32Of(bytes, ev.type == kFormatDescription);
    if (stored != computed) {
      return Status::Error(std::string(TypeName(ev.type)) + " event (type " +
                           std::to_string(ev.type) + ") at " + Where(ev.start) +
                           " fails its CRC32 checksum (stored " + Hex32(stored) + ", computed " +
                           Hex32(computed) + "): the binlog is corrupt or was damaged in transit");
    }
    ev.body.remove_suffix(kChecksumSize);
    return Status::Ok();
  }

  // FORMAT_DESCRIPTION_EVENT: binlog version (2), server version (50), create time (4), common
  // header length (1), post-header length per event type, then on 5.6.1+/MariaDB the checksum
  // algorithm (1) and the event's own checksum (4).
  Status ParseFormatDescription(const Event& ev) {
    Cursor in(ev.body);
    uint16_t binlog_version = 0;
    std::string_view server_version;
    uint8_t header_length = 0;
    if (!in.Uint(2, binlog_version) || !in.Bytes(50, server_version) || !in.Skip(4) ||
        !in.Uint(1, header_length)) {
      return Malformed(ev, "shorter than its fixed fields");
    }
    server_version = server_version.substr(0, server_version.find('\0'));
    if (binlog_version != 4 || header_length != kHeaderSize) {
      return Malformed(ev, "binlog version " + std::to_string(binlog_version) + " with a " +
                               std::to_string(header_length) +
                               "-byte header is not supported (MySQL 5.0+ and MariaDB write "
                               "version 4 with 19 bytes)");
    }
    std::string_view lengths = in.rest();
    uint8_t alg = 0;
    if (HasChecksumAlgorithm(server_version)) {
      if (lengths.size() < 1 + kChecksumSize) return Malformed(ev, "no checksum algorithm byte");
      alg = static_cast<uint8_t>(lengths[lengths.size() - 1 - kChecksumSize]);
      lengths.remove_suffix(1 + kChecksumSize);
    }
    if (alg != 0 && alg != kChecksumCrc32 && alg != 0xff) {
      return Malformed(ev, "unknown checksum algorithm " + std::to_string(alg));
    }
    checksum_alg = alg == kChecksumCrc32 ? kChecksumCrc32 : 0;
    flavor = server_version.find("MariaDB") != std::string_view::npos ? BinlogFlavor::kMariadb
                                                                      : BinlogFlavor::kMysql;
    post_header_lengths.assign(lengths.begin(), lengths.end());
    have_format = true;
    return Status::Ok();
  }

  // ---- dispatch --------------------------------------------------------------------------------

  Status Dispatch(const Event& ev, const Emit& emit) {
    if (std::optional<RowsType> rows = RowsTypeOf(ev.type)) return OnRows(ev, *rows, emit);
    switch (ev.type) {
      case kFormatDescription:
        if (ev.inner) return Malformed(ev, "a FORMAT_DESCRIPTION inside a TRANSACTION_PAYLOAD");
        return Status::Ok();  // parsed before the checksum check
      case kRotate:
        return OnRotate(ev);
      case kStop:
        // The server stopped; a new one numbers its tables afresh.
        tables.clear();
        return Status::Ok();
      case kQuery:
        return OnQuery(ev, false, emit);
      case kQueryCompressed:
        return OnQuery(ev, true, emit);
      case kXid:
        return EndGroup(ev, emit);
      case kTableMap:
        return OnTableMap(ev);
      case kMariaGtid:
        return OnMariaGtid(ev);
      case kGtidList:
        return OnGtidList(ev);
      case kMySqlGtid:
      case kAnonymousGtid:
        return OnMySqlGtid(ev);
      case kPreviousGtids:
        return OnPreviousGtids(ev);
      case kTransactionPayload:
        return OnTransactionPayload(ev, emit);
      case kHeartbeat:
      case kHeartbeatV2:
        return OnHeartbeat(ev, emit);
      case kXaPrepare:
        return Status::Error(std::string(kXaUnsupported) + " (XA_PREPARE at " + Where(ev.start) +
                             ")");
      case kPartialUpdateRows:
        return Status::Error("PARTIAL_UPDATE_ROWS event at " + Where(ev.start) +
                             " is not supported: set binlog_row_value_options='' on the source so "
                             "that JSON updates are logged as full row images");
      case kIncident:
        return OnIncident(ev);
      case kStartEncryption:
        return Status::Error("binlog at " + Where(ev.start) +
                             " is encrypted (START_ENCRYPTION): read it through the server, which "
                             "decrypts, not from the file");
      // Carry nothing Ferry needs: statement annotations, checkpoints, variables of
      // statement-based events, group replication bookkeeping.
      case kAnnotateRows:
      case kBinlogCheckpoint:
      case kRowsQuery:
      case kIgnorable:
      case kIntvar:
      case kRand:
      case kUserVar:
      case kTransactionContext:
      case kViewChange:
        return Status::Ok();
      default:
        if (ev.flags & kIgnorableFlag) return Status::Ok();
        return Status::Error("binlog event type " + std::to_string(ev.type) + " at " +
                             Where(ev.start) + " is not supported");
    }
  }

  // ROTATE: position (8) and the next file's name. The position belongs to the new file. A fake
  // ROTATE (timestamp 0 or log_pos 0) only tells a new connection where it is.
  Status OnRotate(const Event& ev) {
    Cursor in(ev.body);
    uint64_t position = 0;
    if (!in.Uint(8, position) || !in.Skip(PostHeaderLength(kRotate, 8) - 8)) {
      return Malformed(ev, "no position");
    }
    if (in.remaining() == 0) return Malformed(ev, "no file name");
    const bool fake = ev.timestamp == 0 || ev.log_pos == 0;
    file.assign(in.rest());
    next_position = position;
    if (!fake) tables.clear();  // table ids are only valid within one binlog file
    return Status::Ok();
  }

  Status OnIncident(const Event& ev) {
    Cursor in(ev.body);
    uint16_t kind = 0;
    uint8_t length = 0;
    std::string_view message;
    in.Uint(2, kind);
    if (in.Uint(1, length)) in.Bytes(std::min<size_t>(length, in.remaining()), message);
    return Status::Error("the source logged an incident at " + Where(ev.start) + " (type " +
                         std::to_string(kind) + ": " + std::string(message) +
                         "): changes may be missing from the binlog, so the replica must be "
                         "re-snapshotted");
  }

  Status OnHeartbeat(const Event& ev, const Emit& emit) {
    SourceHeartbeat heartbeat;
    heartbeat.head = CurrentPosition();
    // Heartbeats from MySQL carry timestamp 0; the reader then has no source clock from them.
    heartbeat.source_time_us = static_cast<int64_t>(ev.timestamp) * 1000000;
    return emit(SourceEvent(std::move(heartbeat)));
  }

  // ---- event groups ----------------------------------------------------------------------------

  Status OpenGroup(const Event& ev) {
    if (group.open && group.emitted_begin) {
      return Status::Error("the transaction that began at " + Where(group.start) +
                           " has no commit before the next one at " + Where(ev.start) +
                           ": the binlog is incomplete");
    }
    group = Group{};
    group.open = true;
    group.start = ev.start;
    group.timestamp = ev.timestamp;
    group.position = MakePosition(wire::FormatBinlogFilePosition(file, ev.start));
    return Status::Ok();
  }

  Status EmitBegin(const Emit& emit) {
    if (group.emitted_begin) return Status::Ok();
    group.emitted_begin = true;
    wire::Begin begin;
    *begin.mutable_position() = group.position;
    begin.set_commit_time_us(static_cast<int64_t>(group.timestamp) * 1000000);
    begin.set_xid(group.txid);
    return emit(SourceEvent(std::move(begin)));
  }

  // Ends the group at `ev` (XID, COMMIT, ROLLBACK, or a standalone statement): emits Commit if
  // Begin went out, and moves the GTID state past the group either way.
  Status EndGroup(const Event& ev, const Emit& emit) {
    if (!group.open) return Status::Ok();
    if (group.emitted_begin) {
      wire::Commit commit;
      *commit.mutable_position() = group.position;
      commit.set_commit_time_us(static_cast<int64_t>(ev.timestamp) * 1000000);
      FERRY_RETURN_IF_ERROR(emit(SourceEvent(std::move(commit))));
    }
    if (group.mariadb_gtid) mariadb_state[group.mariadb_gtid->domain] = *group.mariadb_gtid;
    if (group.mysql_gtid) {
      wire::AddMySqlGtids(mysql_state, group.mysql_gtid->first, group.mysql_gtid->second,
                          group.mysql_gtid->second);
    }
    group = Group{};
    return Status::Ok();
  }

  // MariaDB GTID: seq_no (8), domain id (4), flags (1), [commit id (8)], [XA xid]. The server id
  // of the GTID is the event's.
  Status OnMariaGtid(const Event& ev) {
    Cursor in(ev.body);
    wire::MariaDbGtid gtid;
    uint8_t flags = 0;
    if (!in.Uint(8, gtid.seq) || !in.Uint(4, gtid.domain) || !in.Uint(1, flags)) {
      return Malformed(ev, "shorter than seq_no, domain id and flags");
    }
    if (flags & (kGtidPreparedXa | kGtidCompletedXa)) {
      return Status::Error(std::string(kXaUnsupported) + " (GTID " + std::to_string(gtid.domain) +
                           "-" + std::to_string(ev.server_id) + "-" + std::to_string(gtid.seq) +
                           " at " + Where(ev.start) + ")");
    }
    if ((flags & kGtidGroupCommitId) && in.remaining() < 8) return Malformed(ev, "no commit id");
    gtid.server = ev.server_id;
    FERRY_RETURN_IF_ERROR(OpenGroup(ev));
    group.awaiting_first = true;
    group.ends_after_first = flags & kGtidStandalone;
    group.txid = gtid.seq;
    group.mariadb_gtid = gtid;
    wire::MariaDbGtidState state = mariadb_state;
    state[gtid.domain] = gtid;
    group.position = MakePosition(wire::FormatMariaDbGtidState(state));
    return Status::Ok();
  }

  // GTID_LIST: count (4, low 28 bits) then (domain 4, server 4, seq 8) each; the binlog state at
  // the start of the file, last GTID of each domain last. Fills domains the state lacks, so that a
  // reader starting at a file's beginning reports complete positions.
  Status OnGtidList(const Event& ev) {
    Cursor in(ev.body);
    uint32_t count = 0;
    if (!in.Uint(4, count)) return Malformed(ev, "no count");
    count &= 0x0fffffff;
    if (in.remaining() / 16 < count)
      return Malformed(ev, "shorter than its " + std::to_string(count) + " GTIDs");
    wire::MariaDbGtidState listed;
    for (uint32_t i = 0; i < count; ++i) {
      wire::MariaDbGtid gtid;
      in.Uint(4, gtid.domain);
      in.Uint(4, gtid.server);
      in.Uint(8, gtid.seq);
      listed[gtid.domain] = gtid;
    }
    if (options.engine == wire::kEngineMariaDb) mariadb_state.insert(listed.begin(), listed.end());
    return Status::Ok();
  }

  // MySQL GTID / ANONYMOUS_GTID: flags (1), source uuid (16), gno (8), then logical clock and
  // commit timestamps that Ferry does not need.
  Status OnMySqlGtid(const Event& ev) {
    Cursor in(ev.body);
    uint8_t flags = 0;
    std::string_view sid;
    uint64_t gno = 0;
    if (!in.Uint(1, flags) || !in.Bytes(16, sid) || !in.Uint(8, gno)) {
      return Malformed(ev, "shorter than flags, uuid and gno");
    }
    FERRY_RETURN_IF_ERROR(OpenGroup(ev));
    group.awaiting_first = true;
    group.ends_after_first = true;  // MySQL: a statement that is not BEGIN is a group of its own
    if (ev.type == kAnonymousGtid) return Status::Ok();  // no GTID: a file position
    if (gno == 0 || gno >= (1ull << 63)) return Malformed(ev, "gno " + std::to_string(gno));
    group.txid = gno;
    group.mysql_gtid.emplace(UuidText(sid), gno);
    wire::MySqlGtidSet set = mysql_state;
    wire::AddMySqlGtids(set, group.mysql_gtid->first, gno, gno);
    group.position = MakePosition(wire::FormatMySqlGtidSet(set));
    return Status::Ok();
  }

  // PREVIOUS_GTIDS: n_sids (8), then per source uuid (16), n_intervals (8), [start, end) pairs.
  // Everything in earlier files, so it belongs to the state of a reader of this file.
  Status OnPreviousGtids(const Event& ev) {
    Cursor in(ev.body);
    uint64_t sids = 0;
    if (!in.Uint(8, sids)) return Malformed(ev, "no count");
    wire::MySqlGtidSet previous;
    for (uint64_t i = 0; i < sids; ++i) {
      std::string_view sid;
      uint64_t intervals = 0;
      if (!in.Bytes(16, sid) || !in.Uint(8, intervals) || in.remaining() / 16 < intervals) {
        return Malformed(ev, "shorter than its GTID intervals");
      }
      for (uint64_t j = 0; j < intervals; ++j) {
        uint64_t first = 0, end = 0;
        in.Uint(8, first);
        in.Uint(8, end);
        if (first == 0 || end <= first || end > (1ull << 63)) {
          return Malformed(ev, "bad interval " + std::to_string(first) + "-" + std::to_string(end));
        }
        wire::AddMySqlGtids(previous, UuidText(sid), first, end - 1);
      }
    }
    if (options.engine != wire::kEngineMySql) return Status::Ok();
    for (const auto& [uuid, intervals] : previous) {
      for (const auto& [first, last] : intervals)
        wire::AddMySqlGtids(mysql_state, uuid, first, last);
    }
    return Status::Ok();
  }

  // QUERY: thread id (4), exec time (4), db length (1), error code (2), status vars length (2),
  // [rest of the post-header], status vars, db, NUL, statement. QUERY_COMPRESSED is the same with
  // the statement compressed.
  Status OnQuery(const Event& ev, bool compressed, const Emit& emit) {
    Cursor in(ev.body);
    const uint8_t post_header = PostHeaderLength(ev.type, 13);
    uint8_t db_length = 0;
    uint16_t status_length = 0;
    std::string_view db;
    if (post_header < 13 || !in.Skip(8) || !in.Uint(1, db_length) || !in.Skip(2) ||
        !in.Uint(2, status_length) || !in.Skip(post_header - 13) || !in.Skip(status_length) ||
        !in.Bytes(db_length, db) || !in.Skip(1)) {
      return Malformed(ev, "shorter than its header, status variables and database name");
    }
    std::string statement(in.rest());
    if (compressed) {
      Result<std::string> inflated = MariaDbUncompress(in.rest());
      if (!inflated.ok()) return Malformed(ev, inflated.message());
      statement = std::move(*inflated);
    }
    switch (ClassifyQuery(statement)) {
      case QueryKind::kBegin:
        return OnBegin(ev);
      case QueryKind::kCommit:
      case QueryKind::kRollback:
        // A binlogged ROLLBACK ends a group that changed non-transactional tables: the source
        // kept those changes (its own replicas keep them too), and any rows were already
        // streamed, so the group ends as a commit. A group without rows produces nothing.
        return EndGroup(ev, emit);
      case QueryKind::kXa:
        return Status::Error(std::string(kXaUnsupported) + " (\"" + statement.substr(0, 60) +
                             "\" at " + Where(ev.start) + ")");
      case QueryKind::kSavepoint:
        return Status::Ok();
      case QueryKind::kOther:
        break;
    }
    StatementEffect effect = EffectOfStatement(db, statement);
    if (effect.kind == StatementEffect::Kind::kTruncate) {
      return OnTruncate(ev, effect.tables.front(), emit);
    }
    FERRY_RETURN_IF_ERROR(
        emit(Ddl{std::string(db), std::move(statement), std::move(effect), StatementAt(ev)}));
    const bool ends = group.open && group.awaiting_first && group.ends_after_first;
    group.awaiting_first = false;
    return ends ? EndGroup(ev, emit) : Status::Ok();
  }

  // TRUNCATE reaches even a ROW-format binlog as a statement (it commits implicitly, so it is a
  // group of its own): it becomes a truncate change of a relation known by name only.
  Status OnTruncate(const Event& ev, const StatementTable& table, const Emit& emit) {
    const bool own_group = !group.open || (group.awaiting_first && group.ends_after_first);
    if (!group.open) FERRY_RETURN_IF_ERROR(OpenGroup(ev));
    group.awaiting_first = false;
    FERRY_RETURN_IF_ERROR(EmitBegin(emit));
    Result<uint32_t> relation_id = EnsureNamedRelation(table, emit);
    if (!relation_id.ok()) return relation_id.status();
    wire::RowChange change;
    change.set_op(wire::RowChange::TRUNCATE);
    change.set_relation_id(*relation_id);
    FERRY_RETURN_IF_ERROR(emit(SourceEvent(std::move(change))));
    return own_group ? EndGroup(ev, emit) : Status::Ok();
  }

  std::string StatementAt(const Event& ev) const {
    if (group.open && group.mariadb_gtid) {
      const wire::MariaDbGtid& gtid = *group.mariadb_gtid;
      return std::to_string(gtid.domain) + "-" + std::to_string(gtid.server) + "-" +
             std::to_string(gtid.seq);
    }
    if (group.open && group.mysql_gtid) {
      return group.mysql_gtid->first + ":" + std::to_string(group.mysql_gtid->second);
    }
    return wire::FormatBinlogFilePosition(file, group.open ? group.start : ev.start);
  }

  Status OnBegin(const Event& ev) {
    if (group.open && group.awaiting_first) {
      group.awaiting_first = false;
      group.ends_after_first = false;
      return Status::Ok();
    }
    // No GTID event before it (or a second BEGIN): a group positioned by file offset.
    return OpenGroup(ev);
  }

  // ---- tables and rows -------------------------------------------------------------------------

  size_t TableIdSize(uint8_t type) const { return PostHeaderLength(type, 8) == 6 ? 4 : 6; }

  Status OnTableMap(const Event& ev) {
    Result<TableMap> table = ParseTableMap(ev.body, TableIdSize(kTableMap), flavor);
    if (!table.ok()) return table.status().WithContext("TABLE_MAP event at " + Where(ev.start));
    if (options.catalog && NeedsCatalog(*table)) {
      Status completed = CompleteFromCatalog(*table, ev);
      if (!completed.ok()) {
        return completed.WithContext("TABLE_MAP event of `" + table->schema + "`.`" + table->table +
                                     "` at " + Where(ev.start));
      }
    }
    const uint64_t id = table->table_id;
    tables.insert_or_assign(id, std::move(*table));
    return Status::Ok();
  }

  Status CompleteFromCatalog(TableMap& table, const Event& ev) {
    Result<const CatalogTable*> catalog = options.catalog(table);
    if (!catalog.ok()) return catalog.status();
    if (*catalog == nullptr) return Status::Ok();
    return mysql::CompleteFromCatalog(table, **catalog, ev.timestamp);
  }

  // The relation id of a table id, emitting the Relation first when this stream has not seen it
  // in its current shape.
  Result<uint32_t> EnsureRelation(const TableMap& table, const Emit& emit) {
    auto [it, added] = relation_ids.emplace(table.table_id, next_relation_id);
    if (added) ++next_relation_id;
    const uint32_t id = it->second;
    wire::Relation relation = RelationFromTableMap(table, id);
    std::string serialized = relation.SerializeAsString();
    std::string& sent = sent_relations[id];
    if (sent != serialized) {
      sent = std::move(serialized);
      FERRY_RETURN_IF_ERROR(emit(SourceEvent(std::move(relation))));
    }
    return id;
  }

  // The relation of a table a statement names (TRUNCATE): no columns, since no TABLE_MAP
  // describes them, emitted once per stream.
  Result<uint32_t> EnsureNamedRelation(const StatementTable& table, const Emit& emit) {
    auto [it, added] = named_relation_ids.emplace(table.schema + '\0' + table.table, 0);
    if (!added) return it->second;
    it->second = next_relation_id++;
    wire::Relation relation;
    relation.set_id(it->second);
    relation.set_schema(table.schema);
    relation.set_table(table.table);
    relation.set_full_old_image(true);
    FERRY_RETURN_IF_ERROR(emit(SourceEvent(std::move(relation))));
    return it->second;
  }

  // ROWS events: table id (6, or 4 with a 6-byte post-header), flags (2), [v2: extra data length
  // (2, counting itself) and extra data], column count (packed), present-columns bitmap, [UPDATE:
  // second bitmap for the after image], then row images to the end.
  Status OnRows(const Event& ev, RowsType rows, const Emit& emit) {
    Cursor in(ev.body);
    const uint8_t post_header = PostHeaderLength(ev.type, rows.v2 ? 10 : 8);
    const size_t id_size = post_header == 6 ? 4 : 6;
    uint64_t table_id = 0;
    if (!in.Uint(id_size, table_id) || !in.Skip(2)) return Malformed(ev, "no table id and flags");
    if (rows.v2) {
      uint16_t extra = 0;
      if (!in.Uint(2, extra) || extra < 2 || !in.Skip(extra - 2)) {
        return Malformed(ev, "bad extra data length");
      }
    }
    uint64_t width = 0;
    if (!in.PackedInt(width) || width > 4096) return Malformed(ev, "bad column count");
    const size_t bitmap_bytes = (width + 7) / 8;
    std::string_view bitmap1, bitmap2;
    if (!in.Bytes(bitmap_bytes, bitmap1) ||
        (rows.kind == RowsKind::kUpdate && !in.Bytes(bitmap_bytes, bitmap2))) {
      return Malformed(ev, "shorter than its column bitmaps");
    }
    if (in.remaining() == 0) return Status::Ok();  // a statement-end marker without rows
    std::string inflated;
    std::string_view data = in.rest();
    if (rows.compressed) {
      Result<std::string> result = MariaDbUncompress(data);
      if (!result.ok()) return Malformed(ev, result.message());
      inflated = std::move(*result);
      data = inflated;
    }
    auto table = tables.find(table_id);
    if (table == tables.end()) {
      return Status::Error(std::string(TypeName(ev.type)) + " event at " + Where(ev.start) +
                           " refers to table id " + std::to_string(table_id) +
                           ", which no TABLE_MAP in this stream defined (a stream must start at a "
                           "transaction boundary)");
    }
    if (table->second.columns.size() != width) {
      return Malformed(ev, "it has " + std::to_string(width) + " columns but the TABLE_MAP of `" +
                               table->second.schema + "`.`" + table->second.table + "` has " +
                               std::to_string(table->second.columns.size()));
    }
    if (!group.open) {
      return Status::Error(std::string(TypeName(ev.type)) + " event at " + Where(ev.start) +
                           " is outside a transaction (no BEGIN or GTID before it)");
    }
    group.awaiting_first = false;
    FERRY_RETURN_IF_ERROR(EmitBegin(emit));
    Result<uint32_t> relation_id = EnsureRelation(table->second, emit);
    if (!relation_id.ok()) return relation_id.status();
    const std::vector<bool> present1 = ReadBitmap(bitmap1, width);
    const std::vector<bool> present2 =
        rows.kind == RowsKind::kUpdate ? ReadBitmap(bitmap2, width) : std::vector<bool>();
    while (!data.empty()) {
      wire::RowChange change;
      change.set_relation_id(*relation_id);
      FERRY_RETURN_IF_ERROR(
          DecodeRow(ev, table->second, rows.kind, present1, present2, data, change));
      FERRY_RETURN_IF_ERROR(emit(SourceEvent(std::move(change))));
    }
    return Status::Ok();
  }

  // Decodes one image off the front of `data`.
  Status DecodeImage(const Event& ev, const TableMap& table, const std::vector<bool>& present,
                     std::string_view& data, std::vector<wire::Value>& out) {
    Result<size_t> used = DecodeRowImage(table, present, data, &out);
    if (!used.ok()) {
      return used.status().WithContext(std::string(TypeName(ev.type)) + " event at " +
                                       Where(ev.start));
    }
    if (*used == 0 || *used > data.size()) {
      return Malformed(ev, "a row image of " + std::to_string(*used) + " bytes");
    }
    data.remove_prefix(*used);
    return Status::Ok();
  }

  Status DecodeRow(const Event& ev, const TableMap& table, RowsKind kind,
                   const std::vector<bool>& present1, const std::vector<bool>& present2,
                   std::string_view& data, wire::RowChange& change) {
    std::vector<wire::Value> first, second;
    FERRY_RETURN_IF_ERROR(DecodeImage(ev, table, present1, data, first));
    if (kind == RowsKind::kUpdate)
      FERRY_RETURN_IF_ERROR(DecodeImage(ev, table, present2, data, second));
    auto move_into = [](std::vector<wire::Value>& values,
                        google::protobuf::RepeatedPtrField<wire::Value>* out) {
      out->Reserve(static_cast<int>(values.size()));
      for (wire::Value& value : values) *out->Add() = std::move(value);
    };
    switch (kind) {
      case RowsKind::kWrite:
        change.set_op(wire::RowChange::INSERT);
        move_into(first, change.mutable_new_values());
        return Status::Ok();
      case RowsKind::kUpdate:
        change.set_op(wire::RowChange::UPDATE);
        SetOldImage(first, present1, change);
        move_into(first, change.mutable_old_values());
        move_into(second, change.mutable_new_values());
        return Status::Ok();
      case RowsKind::kDelete:
        change.set_op(wire::RowChange::DELETE);
        SetOldImage(first, present1, change);
        move_into(first, change.mutable_old_values());
        return Status::Ok();
    }
    return Status::Ok();
  }

  // binlog_row_image=FULL logs whole before images. MINIMAL/NOBLOB leave columns out: the old
  // image is then marked key-only, and the missing columns are null, as the wire model says.
  static void SetOldImage(std::vector<wire::Value>& image, const std::vector<bool>& present,
                          wire::RowChange& change) {
    const bool full = std::all_of(present.begin(), present.end(), [](bool p) { return p; });
    change.set_old_is_key_only(!full);
    if (full) return;
    for (size_t i = 0; i < image.size() && i < present.size(); ++i) {
      if (!present[i]) image[i].mutable_null();
    }
  }

  // ---- MySQL 8 compressed transactions ---------------------------------------------------------

  // TRANSACTION_PAYLOAD: fields as (type, length, value) with packed integers — 1 payload size,
  // 2 compression type (0 zstd, 255 none), 3 uncompressed size — ended by type 0, then the
  // payload: the transaction's events without checksums. (The TLV starts right after the common
  // header, whatever post-header length the FDE lists.)
  Status OnTransactionPayload(const Event& ev, const Emit& emit) {
    if (ev.inner) return Malformed(ev, "a TRANSACTION_PAYLOAD inside another");
    Cursor in(ev.body);
    uint64_t payload_size = UINT64_MAX, compression = 0, uncompressed_size = UINT64_MAX;
    while (true) {
      uint64_t type = 0, length = 0, value = 0;
      if (!in.PackedInt(type)) return Malformed(ev, "truncated field list");
      if (type == 0) break;
      std::string_view field;
      if (!in.PackedInt(length) || !in.Bytes(length, field))
        return Malformed(ev, "truncated field");
      Cursor value_in(field);
      if (type <= 3 && !value_in.PackedInt(value)) return Malformed(ev, "bad field value");
      if (type == 1) payload_size = value;
      if (type == 2) compression = value;
      if (type == 3) uncompressed_size = value;
    }
    const std::string_view payload = in.rest();
    if (payload_size != UINT64_MAX && payload_size != payload.size()) {
      return Malformed(ev, "payload is " + std::to_string(payload.size()) +
                               " bytes but its header says " + std::to_string(payload_size));
    }
    if (compression == 255) return DecodeInnerEvents(ev, payload, nullptr, uncompressed_size, emit);
    if (compression != 0) {
      return Malformed(
          ev, "compression type " + std::to_string(compression) + " is not supported (only zstd)");
    }
    ZstdReader reader(payload);
    return DecodeInnerEvents(ev, payload, &reader, uncompressed_size, emit);
  }

  // Reads the inner events one at a time (from `reader`, or from `raw` when uncompressed) into a
  // buffer that holds only the current one, decoding each as it completes.
  Status DecodeInnerEvents(const Event& outer, std::string_view raw, ZstdReader* reader,
                           uint64_t expected, const Emit& emit) {
    std::string buffer;
    uint64_t total = 0;
    auto read = [&](size_t n) -> Result<size_t> {
      const size_t old_size = buffer.size();
      buffer.resize(old_size + n);
      size_t got = 0;
      if (reader != nullptr) {
        Result<size_t> r = reader->Read(buffer.data() + old_size, n);
        if (!r.ok()) return r.status();
        got = *r;
      } else {
        got = std::min(n, raw.size());
        std::copy_n(raw.data(), got, buffer.data() + old_size);
        raw.remove_prefix(got);
      }
      buffer.resize(old_size + got);
      total += got;
      return got;
    };
    while (true) {
      buffer.clear();
      Result<size_t> got = read(kHeaderSize);
      if (!got.ok()) return Malformed(outer, got.message());
      if (*got == 0) break;
      if (*got < kHeaderSize) return Malformed(outer, "its payload ends inside an event header");
      const uint32_t size = ReadLe32(buffer, 9);
      if (size < kHeaderSize || size > kMaxEventSize || size > expected) {
        return Malformed(outer, "an inner event claims " + std::to_string(size) + " bytes");
      }
      got = read(size - kHeaderSize);
      if (!got.ok()) return Malformed(outer, got.message());
      if (buffer.size() != size) return Malformed(outer, "its payload ends inside an event");
      FERRY_RETURN_IF_ERROR(DecodeInner(outer, buffer, emit));
    }
    if (expected != UINT64_MAX && total != expected) {
      return Malformed(outer, "payload holds " + std::to_string(total) +
                                  " bytes of events but its header says " +
                                  std::to_string(expected));
    }
    return Status::Ok();
  }

  Status DecodeInner(const Event& outer, std::string_view bytes, const Emit& emit) {
    Event ev = ParseHeader(bytes);
    ev.start = outer.start;
    ev.inner = true;
    if (ev.type == kRotate || ev.type == kFormatDescription || ev.type == kStop) {
      return Malformed(outer, "it holds a " + std::string(TypeName(ev.type)) + " event (type " +
                                  std::to_string(ev.type) + ")");
    }
    return Dispatch(ev, emit);
  }
};

BinlogDecoder::BinlogDecoder(DecoderOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

BinlogDecoder::~BinlogDecoder() = default;

Result<std::vector<DecodedEvent>> BinlogDecoder::Decode(std::string_view event) {
  std::vector<DecodedEvent> out;
  Status status = DecodeTo(event, [&out](DecodedEvent&& decoded) {
    out.push_back(std::move(decoded));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Status BinlogDecoder::DecodeTo(std::string_view event,
                               const std::function<Status(DecodedEvent&&)>& emit) {
  return state_->Decode(event, emit);
}

const std::string& BinlogDecoder::file() const { return state_->file; }

uint64_t BinlogDecoder::next_position() const { return state_->next_position; }

}  // namespace ferry::capture::mysql
