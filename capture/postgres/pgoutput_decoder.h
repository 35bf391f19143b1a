// Decoder for pgoutput logical replication messages, protocol version 1 (the payload of XLogData,
// or of pg_logical_slot_peek_binary_changes): Begin, Origin, Relation, Type, Insert, Update,
// Delete, Truncate, Commit. Untrusted bytes: every length is checked, and a malformed message is
// an error naming the message type and offset, never a crash.
//
// Mapping onto Ferry's change records:
//   Begin    -> wire::Begin{position = PgPosition(final LSN), commit time as Unix µs, xid}
//   Origin   -> fills Begin.origin (the Begin is held back one message for this)
//   Relation -> wire::Relation (columns typed via pg_values; key flags; full_old_image for
//               REPLICA IDENTITY FULL); Type messages only name custom column types
//   Insert/Update/Delete -> wire::RowChange; an old image sent as 'K' is key-only
//               (old_is_key_only, non-key columns null); a TOAST value not sent is
//               Value.unchanged
//   Truncate -> one RowChange TRUNCATE naming every relation (truncate_relation_ids)
//   Commit   -> wire::Commit{position = PgPosition(commit LSN)}, checked equal to Begin's
// Logical decoding messages ('M') are skipped. Messages of protocol versions 2+ (streamed or
// two-phase transactions) are errors: they are never requested, and skipping them would lose
// changes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/source.h"
#include "common/status.h"

namespace ferry::capture::postgres {

class PgOutputReader;  // bounds-checked cursor over one message (pgoutput_decoder.cc)

class PgOutputDecoder {
 public:
  // Decodes one message into zero or more events. A Begin is held back until the message after
  // it, so that a following Origin message can fill in Begin.origin; that next message returns
  // the Begin ahead of its own events.
  Result<std::vector<SourceEvent>> Decode(std::string_view message);

  // True while a Begin has been decoded but not yet returned (see Decode).
  bool holding_begin() const { return pending_begin_.has_value(); }
  // True between a Begin and its Commit.
  bool in_transaction() const { return open_final_lsn_.has_value(); }

 private:
  // What the decoder keeps of a Relation message: the record it sent, plus each column's type
  // OID, which the record does not carry but value parsing needs.
  struct RelationInfo {
    wire::Relation relation;
    std::vector<uint32_t> type_oids;
  };

  Status DecodeBegin(PgOutputReader& in);
  Status DecodeOrigin(PgOutputReader& in, std::vector<SourceEvent>& out);
  Status DecodeRelation(PgOutputReader& in, std::vector<SourceEvent>& out);
  Status DecodeType(PgOutputReader& in);
  Status DecodeInsert(PgOutputReader& in, std::vector<SourceEvent>& out);
  Status DecodeUpdate(PgOutputReader& in, std::vector<SourceEvent>& out);
  Status DecodeDelete(PgOutputReader& in, std::vector<SourceEvent>& out);
  Status DecodeTruncate(PgOutputReader& in, std::vector<SourceEvent>& out);
  Status DecodeCommit(PgOutputReader& in, std::vector<SourceEvent>& out);

  Result<const RelationInfo*> FindRelation(PgOutputReader& in, uint32_t id) const;
  Status ReadTuple(PgOutputReader& in, const RelationInfo& relation,
                   google::protobuf::RepeatedPtrField<wire::Value>& out) const;
  Status RequireTransaction(PgOutputReader& in) const;
  std::string ColumnTypeName(uint32_t type_oid, int32_t type_modifier) const;

  std::map<uint32_t, RelationInfo> relations_;
  std::map<uint32_t, std::string> custom_type_names_;  // from Type messages
  std::optional<wire::Begin> pending_begin_;
  std::optional<uint64_t> open_final_lsn_;  // the open transaction's Begin final LSN
};

}  // namespace ferry::capture::postgres
