// `ferry verify`: does the target hold what apply writes for every row of the source? Per
// replicated table it reports rows missing on the target, rows extra on the target and rows
// that differ (with their keys, and on request the differing columns), across engines and
// through the apply config's mapping.
//
// How (order-independent, so that two engines whose collations order text keys differently
// still compare):
//   pass 1  the source in key order, chunk by chunk (TableReader::ReadChunk); each chunk's rows
//           are looked up on the target by the keys apply gave them (ReadKeys): missing and
//           differing rows;
//   pass 2  the target in its key order; each chunk's rows are looked up on the source: extra
//           rows;
//   re-check the differences found are read again on both sides after a delay, a few rounds
//           while they shrink, so that rows still in flight during live replication are not
//           reported.
// Where both sides are one engine and the compared columns have the same types, passes 1 and 2
// are replaced by chunk checksums computed inside each database (verify/checksum.h); only a
// chunk whose checksums differ is read row by row, as above.
// Values are compared in canonical form (verify/canonical.h): what apply would write for the
// source value against what the target holds.
//
// Invariant (bounded memory on any table size): at most one chunk of rows per side is held at a
// time, plus the differences remembered for the re-check (at most `rechecked_keys` per table;
// more are counted, not remembered) and those listed in the report (`listed_keys` per kind).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "apply/table_mapping.h"
#include "capture/table_reader.h"
#include "common/status.h"
#include "verify/checksum.h"
#include "verify/row_plan.h"

namespace ferry::verify {

struct VerifyOptions {
  size_t chunk_rows = 1000;  // rows read per chunk and looked up per statement
  std::chrono::milliseconds recheck_delay{2000};
  int recheck_rounds = 3;         // at most; stops early when a round resolves nothing
  size_t listed_keys = 20;        // keys listed per kind of difference and table
  size_t rechecked_keys = 10000;  // differences remembered per table for the re-check
  bool columns = false;           // name the columns that differ
  bool checksums = true;          // compare chunks by checksum where the plan allows
};

// One difference as the report lists it.
struct ListedDifference {
  std::vector<std::pair<std::string, wire::Value>> key;  // column name and value
  std::vector<std::string> columns;                      // differing rows, with `columns`
};

struct DifferenceList {
  uint64_t count = 0;
  std::vector<ListedDifference> listed;  // the first `listed_keys`, in key order
};

struct TableReport {
  std::string source_table;  // "schema.table"
  std::string target_table;
  std::string error;  // set when the table could not be verified
  uint64_t source_rows = 0;
  uint64_t target_rows = 0;
  DifferenceList missing;               // on the source, not on the target
  DifferenceList extra;                 // on the target, not on the source
  DifferenceList differing;             // on both, with different values
  int recheck_rounds = 0;               // re-check rounds run
  uint64_t not_rechecked = 0;           // differences beyond `rechecked_keys`: as first found
  uint64_t checksum_chunks = 0;         // chunks compared by checksum (0: row by row)
  uint64_t chunks_read_row_by_row = 0;  // of those, the chunks whose checksums differed
  double seconds = 0;

  bool equal() const {
    return error.empty() && missing.count == 0 && extra.count == 0 && differing.count == 0;
  }
};

struct VerifyReport {
  VerifyOptions options;
  std::string error;  // set when verify could not start (config, connection, table list)
  std::vector<TableReport> tables;
  double seconds = 0;

  // 0 every table equal, 1 some table differs, 2 an error (nothing can be said for sure).
  int ExitCode() const;
};

// Compares one source table with its target table (passes 1 and 2, then the re-check).
// Invariant: a row is reported at most once per kind, under the key of the side it was found
// on (source key for missing and differing rows, target key for extra rows).
class TableVerifier {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  TableVerifier(capture::TableReader& source, const KeyedRelation& source_table,
                capture::TableReader& target, const KeyedRelation& target_table,
                const RowPlan& plan, VerifyOptions options, Sleep sleep);

  // Compare chunks by checksum first, with these checksummers (one per side, of one engine)
  // over `columns` (RowPlan::ChecksumColumnsIfComparable).
  void UseChecksums(ChunkChecksummer& source, ChunkChecksummer& target,
                    RowPlan::ChecksumColumns columns);

  // Fails when either side cannot be read; differences are not errors.
  Result<TableReport> Run();

 private:
  struct Pending;  // a difference remembered for the re-check
  Status SourcePass(TableReport& report, std::vector<Pending>& pending);
  Status TargetPass(TableReport& report, std::vector<Pending>& pending);
  Status ChecksumPass(TableReport& report, std::vector<Pending>& pending);
  // The next chunk of the source after `after`; the target's rows in (after, upto].
  Result<ChunkSum> SourceChunkSum(const Key& after);
  Result<ChunkSum> TargetRangeSum(const Key& after, const Key& upto);
  // Pass 1 for some source rows: look them up on the target.
  Status CompareSourceRows(const std::vector<Row>& rows, TableReport& report,
                           std::vector<Pending>& pending);
  // Pass 2 for some target rows: look them up on the source.
  Status LookUpTargetRows(const std::vector<Row>& rows, TableReport& report,
                          std::vector<Pending>& pending);
  // Both passes over one chunk whose checksums differ: the source's `source_rows` rows after
  // `after`, the target's `target_rows` rows after it.
  Status CompareChunkRowByRow(const Key& after, uint64_t source_rows, uint64_t target_rows,
                              TableReport& report, std::vector<Pending>& pending);
  Status Recheck(TableReport& report, std::vector<Pending>& pending);
  // Reads the remembered differences again on both sides; drops those that agree now.
  Status Reclassify(std::vector<Pending>& pending);
  void Remember(Pending difference, TableReport& report, std::vector<Pending>& pending);
  void List(const std::vector<Pending>& pending, TableReport& report) const;

  capture::TableReader& source_;
  const KeyedRelation& source_table_;
  capture::TableReader& target_;
  const KeyedRelation& target_table_;
  const RowPlan& plan_;
  VerifyOptions options_;
  Sleep sleep_;
  ChunkChecksummer* source_sums_ = nullptr;  // both set, or neither
  ChunkChecksummer* target_sums_ = nullptr;
  RowPlan::ChecksumColumns checksum_columns_;
};

// ---- the command ---------------------------------------------------------------------------

// What verify reads from the two agents' configs.
struct VerifySetup {
  std::string source_engine;  // "postgres", "mariadb", "mysql"
  std::string source_dsn;
  std::vector<std::string> source_tables;  // the capture config's tables: patterns
  std::string publication;                 // PostgreSQL: its tables, when it exists
  std::string target_engine;
  std::string target_dsn;
  bool zero_dates_as_null = true;  // PostgreSQL targets: `zero_dates: null`
  std::vector<apply::MappingRule> mappings;
  std::vector<std::string> only_tables;  // --table: these source tables only
};

struct VerifyArguments {
  std::string apply_config;
  std::string capture_config;
  std::vector<std::string> tables;
  bool json = false;
  VerifyOptions options;
};

// `ferry verify` arguments (after the word "verify"); errors name the argument and the usage.
Result<VerifyArguments> ParseVerifyArguments(const std::vector<std::string>& args);

// Connects to both databases and verifies every table; errors are in the report.
VerifyReport Verify(const VerifySetup& setup, const VerifyOptions& options);

// One line per table, then the keys of the differences; JSON: one document.
std::string TextReport(const VerifyReport& report);
std::string JsonReport(const VerifyReport& report);

}  // namespace ferry::verify
