#include "capture/postgres/pgoutput_decoder.h"

#include <limits>
#include <utility>

#include "capture/postgres/pg_values.h"
#include "wire/position.h"

namespace ferry::capture::postgres {
namespace {

std::string MessageName(char type) {
  switch (type) {
    case 'B':
      return "Begin";
    case 'O':
      return "Origin";
    case 'R':
      return "Relation";
    case 'Y':
      return "Type";
    case 'I':
      return "Insert";
    case 'U':
      return "Update";
    case 'D':
      return "Delete";
    case 'T':
      return "Truncate";
    case 'C':
      return "Commit";
    case 'M':
      return "Message";
    default:
      return "unknown";
  }
}

std::string ByteText(uint8_t byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "0x";
  text += kHex[byte >> 4];
  text += kHex[byte & 0xf];
  if (byte >= 0x20 && byte < 0x7f) text += std::string(" ('") + static_cast<char>(byte) + "')";
  return text;
}

// Converts a PostgreSQL timestamp to Unix microseconds; false if the sum would overflow
// (only garbage input gets there: it is 292 000 years away).
bool PgToUnixMicros(int64_t pg_micros, int64_t& unix_micros) {
  if (pg_micros > std::numeric_limits<int64_t>::max() - kPgEpochUnixMicros) return false;
  unix_micros = pg_micros + kPgEpochUnixMicros;
  return true;
}

std::string QualifiedName(const std::string& schema, const std::string& name) {
  return schema.empty() ? name : schema + "." + name;
}

}  // namespace

// A cursor over one message. Every read checks the bytes left first; errors say which message
// and where.
class PgOutputReader {
 public:
  explicit PgOutputReader(std::string_view data) : data_(data), pos_(1) {}

  char type() const { return data_[0]; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  Status U8(uint8_t& out) { return ReadBigEndian(out); }
  Status U16(uint16_t& out) { return ReadBigEndian(out); }
  Status U32(uint32_t& out) { return ReadBigEndian(out); }
  Status U64(uint64_t& out) { return ReadBigEndian(out); }
  Status I32(int32_t& out) { return ReadSigned<uint32_t>(out); }
  Status I64(int64_t& out) { return ReadSigned<uint64_t>(out); }

  // A NUL-terminated string.
  Status CString(std::string& out) {
    const size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) return Error("string without terminating NUL");
    out.assign(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return Status::Ok();
  }

  Status Bytes(size_t count, std::string_view& out) {
    FERRY_RETURN_IF_ERROR(Need(count));
    out = data_.substr(pos_, count);
    pos_ += count;
    return Status::Ok();
  }

  // Errors for anything but exactly the bytes of the message having been read.
  Status ExpectEnd() const {
    if (remaining() == 0) return Status::Ok();
    return Error(std::to_string(remaining()) + " unexpected bytes after the message");
  }

  Status Error(std::string_view why) const { return ErrorAt(pos_, why); }
  Status ErrorAt(size_t offset, std::string_view why) const {
    return Status::Error("pgoutput " + MessageName(type()) + " message ('" +
                         std::string(1, type()) + "') at offset " + std::to_string(offset) + ": " +
                         std::string(why));
  }

 private:
  Status Need(size_t count) const {
    if (count <= remaining()) return Status::Ok();
    return Error("truncated: needs " + std::to_string(count) + " bytes, " +
                 std::to_string(remaining()) + " left");
  }

  template <typename T>
  Status ReadBigEndian(T& out) {
    FERRY_RETURN_IF_ERROR(Need(sizeof(T)));
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      value = static_cast<T>((value << 8) | static_cast<uint8_t>(data_[pos_ + i]));
    }
    pos_ += sizeof(T);
    out = value;
    return Status::Ok();
  }

  template <typename U, typename S>
  Status ReadSigned(S& out) {
    U raw = 0;
    FERRY_RETURN_IF_ERROR(ReadBigEndian(raw));
    out = static_cast<S>(raw);  // two's complement, well defined since C++20
    return Status::Ok();
  }

  std::string_view data_;
  size_t pos_;
};

Result<std::vector<SourceEvent>> PgOutputDecoder::Decode(std::string_view message) {
  if (message.empty()) return Status::Error("pgoutput: empty message");
  PgOutputReader in(message);
  std::vector<SourceEvent> out;
  // Anything but an Origin releases a held Begin ahead of its own events.
  if (pending_begin_ && in.type() != 'O') {
    out.emplace_back(std::move(*pending_begin_));
    pending_begin_.reset();
  }
  Status status = Status::Ok();
  switch (in.type()) {
    case 'B':
      status = DecodeBegin(in);
      break;
    case 'O':
      status = DecodeOrigin(in, out);
      break;
    case 'R':
      status = DecodeRelation(in, out);
      break;
    case 'Y':
      status = DecodeType(in);
      break;
    case 'I':
      status = DecodeInsert(in, out);
      break;
    case 'U':
      status = DecodeUpdate(in, out);
      break;
    case 'D':
      status = DecodeDelete(in, out);
      break;
    case 'T':
      status = DecodeTruncate(in, out);
      break;
    case 'C':
      status = DecodeCommit(in, out);
      break;
    case 'M':
      return out;  // pg_logical_emit_message: not Ferry's business
    case 'S':
    case 'E':
    case 'c':
    case 'A':
    case 'b':
    case 'P':
    case 'K':
    case 'r':
    case 'p':
      return Status::Error("pgoutput message type " + ByteText(message[0]) +
                           " belongs to protocol version 2 or later (streamed or two-phase "
                           "transactions), which Ferry does not request");
    default:
      return Status::Error("pgoutput: unknown message type " + ByteText(message[0]));
  }
  if (!status.ok()) return status;
  FERRY_RETURN_IF_ERROR(in.ExpectEnd());
  return out;
}

Status PgOutputDecoder::DecodeBegin(PgOutputReader& in) {
  uint64_t final_lsn = 0;
  int64_t commit_time = 0;
  uint32_t xid = 0;
  FERRY_RETURN_IF_ERROR(in.U64(final_lsn));
  FERRY_RETURN_IF_ERROR(in.I64(commit_time));
  FERRY_RETURN_IF_ERROR(in.U32(xid));
  FERRY_RETURN_IF_ERROR(in.ExpectEnd());
  if (open_final_lsn_) {
    return in.Error("Begin while the transaction at " + wire::FormatPgLsn(*open_final_lsn_) +
                    " has not committed");
  }
  wire::Begin begin;
  *begin.mutable_position() = wire::PgPosition(final_lsn);
  int64_t unix_micros = 0;
  if (!PgToUnixMicros(commit_time, unix_micros)) return in.Error("commit time out of range");
  begin.set_commit_time_us(unix_micros);
  begin.set_xid(xid);
  open_final_lsn_ = final_lsn;
  pending_begin_ = std::move(begin);
  return Status::Ok();
}

Status PgOutputDecoder::DecodeOrigin(PgOutputReader& in, std::vector<SourceEvent>& out) {
  uint64_t origin_lsn = 0;  // the transaction's commit LSN on its origin node; not needed
  std::string name;
  FERRY_RETURN_IF_ERROR(in.U64(origin_lsn));
  FERRY_RETURN_IF_ERROR(in.CString(name));
  FERRY_RETURN_IF_ERROR(in.ExpectEnd());
  if (!pending_begin_) return in.Error("Origin message that does not follow a Begin");
  pending_begin_->set_origin(std::move(name));
  out.emplace_back(std::move(*pending_begin_));
  pending_begin_.reset();
  return Status::Ok();
}

std::string PgOutputDecoder::ColumnTypeName(uint32_t type_oid, int32_t type_modifier) const {
  std::string name = PgTypeName(type_oid, type_modifier);
  if (!name.empty()) return name;
  auto custom = custom_type_names_.find(type_oid);
  if (custom != custom_type_names_.end()) return custom->second;
  // pgoutput describes every type outside pg_catalog's built-in range with a Type message, so
  // this is a built-in type Ferry's table does not list.
  return "pg_type oid " + std::to_string(type_oid);
}

Status PgOutputDecoder::DecodeRelation(PgOutputReader& in, std::vector<SourceEvent>& out) {
  uint32_t id = 0;
  std::string schema, table;
  uint8_t identity = 0;
  uint16_t column_count = 0;
  FERRY_RETURN_IF_ERROR(in.U32(id));
  FERRY_RETURN_IF_ERROR(in.CString(schema));
  FERRY_RETURN_IF_ERROR(in.CString(table));
  const size_t identity_offset = in.offset();
  FERRY_RETURN_IF_ERROR(in.U8(identity));
  if (identity != 'd' && identity != 'n' && identity != 'f' && identity != 'i') {
    return in.ErrorAt(identity_offset, "unknown replica identity " + ByteText(identity));
  }
  FERRY_RETURN_IF_ERROR(in.U16(column_count));

  RelationInfo info;
  wire::Relation& relation = info.relation;
  relation.set_id(id);
  // pgoutput sends an empty namespace for pg_catalog.
  relation.set_schema(schema.empty() ? "pg_catalog" : schema);
  relation.set_table(std::move(table));
  relation.set_full_old_image(identity == 'f');
  for (uint16_t i = 0; i < column_count; ++i) {
    uint8_t flags = 0;
    std::string name;
    uint32_t type_oid = 0;
    int32_t type_modifier = 0;
    FERRY_RETURN_IF_ERROR(in.U8(flags));
    FERRY_RETURN_IF_ERROR(in.CString(name));
    FERRY_RETURN_IF_ERROR(in.U32(type_oid));
    FERRY_RETURN_IF_ERROR(in.I32(type_modifier));
    wire::Column& column = *relation.add_columns();
    column.set_name(std::move(name));
    column.set_source_type(ColumnTypeName(type_oid, type_modifier));
    column.set_type(PgLogicalType(type_oid));
    column.set_element_type(PgArrayElementType(type_oid));
    column.set_key((flags & 1) != 0);
    info.type_oids.push_back(type_oid);
  }
  FERRY_RETURN_IF_ERROR(in.ExpectEnd());
  out.emplace_back(relation);
  relations_[id] = std::move(info);
  return Status::Ok();
}

Status PgOutputDecoder::DecodeType(PgOutputReader& in) {
  uint32_t oid = 0;
  std::string schema, name;
  FERRY_RETURN_IF_ERROR(in.U32(oid));
  FERRY_RETURN_IF_ERROR(in.CString(schema));
  FERRY_RETURN_IF_ERROR(in.CString(name));
  FERRY_RETURN_IF_ERROR(in.ExpectEnd());
  // Unqualified where the name resolves without a schema on a default search_path.
  if (schema == "public" || schema == "pg_catalog") schema.clear();
  custom_type_names_[oid] = QualifiedName(schema, name);
  return Status::Ok();
}

Result<const PgOutputDecoder::RelationInfo*> PgOutputDecoder::FindRelation(PgOutputReader& in,
                                                                           uint32_t id) const {
  auto it = relations_.find(id);
  if (it == relations_.end()) {
    return in.Error("relation id " + std::to_string(id) +
                    " has not been described by a Relation message");
  }
  return &it->second;
}

Status PgOutputDecoder::RequireTransaction(PgOutputReader& in) const {
  if (open_final_lsn_) return Status::Ok();
  return in.Error("row change outside a transaction (no Begin)");
}

Status PgOutputDecoder::ReadTuple(PgOutputReader& in, const RelationInfo& info,
                                  google::protobuf::RepeatedPtrField<wire::Value>& out) const {
  const wire::Relation& relation = info.relation;
  const size_t count_offset = in.offset();
  uint16_t count = 0;
  FERRY_RETURN_IF_ERROR(in.U16(count));
  if (count != static_cast<size_t>(relation.columns_size())) {
    return in.ErrorAt(count_offset, "tuple has " + std::to_string(count) + " columns, relation " +
                                        relation.schema() + "." + relation.table() + " has " +
                                        std::to_string(relation.columns_size()));
  }
  for (uint16_t i = 0; i < count; ++i) {
    const size_t kind_offset = in.offset();
    uint8_t kind = 0;
    FERRY_RETURN_IF_ERROR(in.U8(kind));
    wire::Value& value = *out.Add();
    if (kind == 'n') {
      value.mutable_null();
    } else if (kind == 'u') {
      value.mutable_unchanged();
    } else if (kind == 't') {
      int32_t length = 0;
      std::string_view text;
      FERRY_RETURN_IF_ERROR(in.I32(length));
      if (length < 0) return in.Error("negative value length " + std::to_string(length));
      FERRY_RETURN_IF_ERROR(in.Bytes(static_cast<size_t>(length), text));
      Result<wire::Value> typed = PgTextToValue(info.type_oids[i], text);
      if (!typed.ok()) {
        return in.ErrorAt(kind_offset, "column " + relation.columns(i).name() + " of " +
                                           relation.schema() + "." + relation.table() + ": " +
                                           typed.message());
      }
      value = std::move(typed).value();
    } else if (kind == 'b') {
      return in.ErrorAt(kind_offset, "binary value for column " + relation.columns(i).name() +
                                         " (Ferry asks for text values only)");
    } else {
      return in.ErrorAt(kind_offset, "unknown tuple value kind " + ByteText(kind));
    }
  }
  return Status::Ok();
}

Status PgOutputDecoder::DecodeInsert(PgOutputReader& in, std::vector<SourceEvent>& out) {
  FERRY_RETURN_IF_ERROR(RequireTransaction(in));
  uint32_t id = 0;
  FERRY_RETURN_IF_ERROR(in.U32(id));
  Result<const RelationInfo*> relation = FindRelation(in, id);
  if (!relation.ok()) return relation.status();
  const size_t marker_offset = in.offset();
  uint8_t marker = 0;
  FERRY_RETURN_IF_ERROR(in.U8(marker));
  if (marker != 'N') return in.ErrorAt(marker_offset, "expected 'N', got " + ByteText(marker));
  wire::RowChange row;
  row.set_op(wire::RowChange::INSERT);
  row.set_relation_id(id);
  FERRY_RETURN_IF_ERROR(ReadTuple(in, **relation, *row.mutable_new_values()));
  out.emplace_back(std::move(row));
  return Status::Ok();
}

Status PgOutputDecoder::DecodeUpdate(PgOutputReader& in, std::vector<SourceEvent>& out) {
  FERRY_RETURN_IF_ERROR(RequireTransaction(in));
  uint32_t id = 0;
  FERRY_RETURN_IF_ERROR(in.U32(id));
  Result<const RelationInfo*> relation = FindRelation(in, id);
  if (!relation.ok()) return relation.status();
  wire::RowChange row;
  row.set_op(wire::RowChange::UPDATE);
  row.set_relation_id(id);
  size_t marker_offset = in.offset();
  uint8_t marker = 0;
  FERRY_RETURN_IF_ERROR(in.U8(marker));
  if (marker == 'K' || marker == 'O') {
    row.set_old_is_key_only(marker == 'K');
    FERRY_RETURN_IF_ERROR(ReadTuple(in, **relation, *row.mutable_old_values()));
    marker_offset = in.offset();
    FERRY_RETURN_IF_ERROR(in.U8(marker));
    if (marker != 'N') return in.ErrorAt(marker_offset, "expected 'N', got " + ByteText(marker));
  } else if (marker != 'N') {
    return in.ErrorAt(marker_offset, "expected 'K', 'O' or 'N', got " + ByteText(marker));
  }
  FERRY_RETURN_IF_ERROR(ReadTuple(in, **relation, *row.mutable_new_values()));
  out.emplace_back(std::move(row));
  return Status::Ok();
}

Status PgOutputDecoder::DecodeDelete(PgOutputReader& in, std::vector<SourceEvent>& out) {
  FERRY_RETURN_IF_ERROR(RequireTransaction(in));
  uint32_t id = 0;
  FERRY_RETURN_IF_ERROR(in.U32(id));
  Result<const RelationInfo*> relation = FindRelation(in, id);
  if (!relation.ok()) return relation.status();
  const size_t marker_offset = in.offset();
  uint8_t marker = 0;
  FERRY_RETURN_IF_ERROR(in.U8(marker));
  if (marker != 'K' && marker != 'O') {
    return in.ErrorAt(marker_offset, "expected 'K' or 'O', got " + ByteText(marker));
  }
  wire::RowChange row;
  row.set_op(wire::RowChange::DELETE);
  row.set_relation_id(id);
  row.set_old_is_key_only(marker == 'K');
  FERRY_RETURN_IF_ERROR(ReadTuple(in, **relation, *row.mutable_old_values()));
  out.emplace_back(std::move(row));
  return Status::Ok();
}

Status PgOutputDecoder::DecodeTruncate(PgOutputReader& in, std::vector<SourceEvent>& out) {
  FERRY_RETURN_IF_ERROR(RequireTransaction(in));
  uint32_t count = 0;
  uint8_t options = 0;
  FERRY_RETURN_IF_ERROR(in.U32(count));
  FERRY_RETURN_IF_ERROR(in.U8(options));
  // Checked before the loop, so a garbage count cannot make it run long.
  if (in.remaining() != static_cast<uint64_t>(count) * 4) {
    return in.Error("truncate of " + std::to_string(count) + " relations needs " +
                    std::to_string(static_cast<uint64_t>(count) * 4) + " bytes of ids, " +
                    std::to_string(in.remaining()) + " left");
  }
  if (count == 0) return Status::Ok();  // pgoutput never sends one; nothing to empty
  // One change for the whole statement: `TRUNCATE a, b` where b references a cannot be
  // applied table by table.
  constexpr uint8_t kCascade = 1, kRestartIdentity = 2;
  wire::RowChange row;
  row.set_op(wire::RowChange::TRUNCATE);
  row.set_cascade((options & kCascade) != 0);
  row.set_restart_identity((options & kRestartIdentity) != 0);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t id = 0;
    FERRY_RETURN_IF_ERROR(in.U32(id));
    Result<const RelationInfo*> relation = FindRelation(in, id);
    if (!relation.ok()) return relation.status();
    if (i == 0) row.set_relation_id(id);
    row.add_truncate_relation_ids(id);
  }
  out.emplace_back(std::move(row));
  return Status::Ok();
}

Status PgOutputDecoder::DecodeCommit(PgOutputReader& in, std::vector<SourceEvent>& out) {
  uint8_t flags = 0;  // unused by PostgreSQL so far
  uint64_t commit_lsn = 0, end_lsn = 0;
  int64_t commit_time = 0;
  FERRY_RETURN_IF_ERROR(in.U8(flags));
  FERRY_RETURN_IF_ERROR(in.U64(commit_lsn));
  FERRY_RETURN_IF_ERROR(in.U64(end_lsn));
  FERRY_RETURN_IF_ERROR(in.I64(commit_time));
  FERRY_RETURN_IF_ERROR(in.ExpectEnd());
  if (!open_final_lsn_) return in.Error("Commit without a Begin");
  // Begin and Commit must name the same transaction: the position is what apply checkpoints.
  if (commit_lsn != *open_final_lsn_) {
    return in.Error("commit LSN " + wire::FormatPgLsn(commit_lsn) +
                    " differs from the Begin's final LSN " + wire::FormatPgLsn(*open_final_lsn_));
  }
  wire::Commit commit;
  *commit.mutable_position() = wire::PgPosition(commit_lsn);
  int64_t unix_micros = 0;
  if (!PgToUnixMicros(commit_time, unix_micros)) return in.Error("commit time out of range");
  commit.set_commit_time_us(unix_micros);
  open_final_lsn_.reset();
  out.emplace_back(std::move(commit));
  return Status::Ok();
}

}  // namespace ferry::capture::postgres
