// MySQL/MariaDB binlog events to Ferry change events. Feed it events in log order (each starting
// at the 19-byte common header, checksum included if the log has one); it keeps the state that
// decoding needs — the format description (checksum algorithm, header lengths), table maps, the
// current file and position, the GTID state — and turns row events inside transactions into
// Begin / Relation / RowChange / Commit.
//
// Positions (wire::Position, engine "mariadb" or "mysql", see wire/position.h):
//   - with GTIDs: the GTID state *including* this transaction (MariaDB "0-1-42,1-2-7",
//     MySQL "uuid:1-42,uuid2:1-7"), so a checkpoint is a complete resume point;
//   - without: "file:<binlog file>:<offset of the transaction's first event>", so resuming at a
//     checkpoint re-reads that transaction once, and the apply side skips it.
// Begin.position == Commit.position for one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "capture/mysql/row_decoder.h"
#include "capture/mysql/statement_effect.h"
#include "capture/mysql/table_catalog.h"
#include "capture/source.h"
#include "common/status.h"

namespace ferry::capture::mysql {

struct DecoderOptions {
  std::string engine = "mariadb";  // "mariadb" or "mysql": the tag of every position
  // Starting state: the binlog file being read (a ROTATE sets it too), and the GTID state the
  // reader resumed from (empty when not using GTIDs).
  std::string file;
  std::string gtid_state;
  // For a TABLE_MAP that lacks column names, signedness, charsets or ENUM/SET members
  // (NeedsCatalog: binlog_row_metadata NO_LOG or MINIMAL, MySQL 5.7): the table as the reader's
  // catalog describes it (valid until the next call), for CompleteFromCatalog; nullptr for a
  // table the reader does not want, which stays as logged. Unset, every table stays as logged.
  std::function<Result<const CatalogTable*>(const TableMap&)> catalog;
};

// A statement the decoder saw that is not a change but that a reader may want (inspect prints
// these; the live source refreshes schemas on DDL and stops at statements that change rows of
// its tables without row events). A TRUNCATE is not one of these: it is decoded into a truncate
// change of its table, as its own transaction.
struct Ddl {
  std::string schema;  // the session's current database
  std::string statement;
  StatementEffect effect;
  // Where the statement is, as an operator names it: its GTID ("0-1-57", MySQL "uuid:57"), or
  // "file:<binlog file>:<offset>" without GTIDs.
  std::string at;
};

using DecodedEvent = std::variant<SourceEvent, Ddl>;

class BinlogDecoder {
 public:
  explicit BinlogDecoder(DecoderOptions options);
  ~BinlogDecoder();

  // Decodes one event. Unknown event types flagged LOG_EVENT_IGNORABLE_F are skipped; other
  // unknown types are an error naming the type and position.
  Result<std::vector<DecodedEvent>> Decode(std::string_view event);

  // The same, handing each decoded event to `emit` as soon as it is decoded instead of
  // collecting them: a MySQL 8 TRANSACTION_PAYLOAD event carries a whole (compressed)
  // transaction, and this keeps memory bounded by one inner event (DESIGN invariant 4). An error
  // from `emit` stops decoding and is returned.
  Status DecodeTo(std::string_view event, const std::function<Status(DecodedEvent&&)>& emit);

  // The binlog file and the offset of the next event: where a reader would resume.
  const std::string& file() const;
  uint64_t next_position() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads a binlog file: the 4-byte magic (0xfe 'b' 'i' 'n'), then length-prefixed events. Calls
// `on_event` with each event's bytes; stops at the first error (garbage, truncation), which names
// the offset.
Status ReadBinlogFile(const std::string& path,
                      const std::function<Status(std::string_view event)>& on_event);

}  // namespace ferry::capture::mysql
