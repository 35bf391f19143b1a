// Decoder for pgoutput logical replication messages, protocol version 1 (the payload of XLogData,
// or of pg_logical_slot_peek_binary_changes): Begin, Origin, Relation, Type, Insert, Update,
// Delete, Truncate, Commit. Untrusted bytes: every length is checked, and a malformed message is
// an error naming the message type and offset, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "capture/source.h"
#include "common/status.h"

namespace ferry::capture::postgres {

class PgOutputDecoder {
 public:
  // Decodes one message into zero or more events. A Begin is held back until the message after
  // it, so that a following Origin message can fill in Begin.origin.
  Result<std::vector<SourceEvent>> Decode(std::string_view message);

 private:
  std::map<uint32_t, wire::Relation> relations_;
  std::map<uint32_t, std::string> custom_type_names_;  // from Type messages
  std::optional<wire::Begin> pending_begin_;
};

}  // namespace ferry::capture::postgres
