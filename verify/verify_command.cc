// Verify(): connects to both databases, lists the replicated tables and runs a TableVerifier
// over each; every error ends in the report, never in an exception.
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "apply/table_mapping.h"
#include "capture/mysql/mysql_table_reader.h"
#include "capture/postgres/pg_table_reader.h"
#include "common/log.h"
#include "verify/catalog.h"
#include "verify/verify.h"

namespace ferry::verify {
namespace {

using Clock = std::chrono::steady_clock;

Result<Engine> EngineOf(const std::string& name) {
  if (name == "postgres") return Engine::kPostgres;
  if (name == "mariadb" || name == "mysql") return Engine::kMysql;
  return Status::Error("unknown engine \"" + name + "\"");
}

Result<std::unique_ptr<capture::TableReader>> ConnectReader(Engine engine, const std::string& dsn,
                                                            const std::string& side) {
  if (engine == Engine::kPostgres) {
    auto reader = capture::postgres::ConnectPostgresTableReader(dsn);
    if (!reader.ok()) return reader.status().WithContext(side);
    return std::unique_ptr<capture::TableReader>(std::move(*reader));
  }
  auto reader = capture::mysql::ConnectMysqlTableReader(dsn);
  if (!reader.ok()) return reader.status().WithContext(side);
  return std::unique_ptr<capture::TableReader>(std::move(*reader));
}

// Both sides of the comparison: engines, catalogs and readers.
struct Sides {
  Engine source_engine = Engine::kPostgres;
  Engine target_engine = Engine::kPostgres;
  std::unique_ptr<Catalog> source_catalog;
  std::unique_ptr<Catalog> target_catalog;
  std::unique_ptr<capture::TableReader> source;
  std::unique_ptr<capture::TableReader> target;
  // One engine on both sides: chunk checksums (null otherwise, or with --row-by-row).
  std::unique_ptr<ChunkChecksummer> source_sums;
  std::unique_ptr<ChunkChecksummer> target_sums;
};

Status ConnectChecksummers(const VerifySetup& setup, Sides& sides) {
  auto source = ConnectChecksummer(sides.source_engine, setup.source_dsn);
  if (!source.ok()) return source.status().WithContext("source");
  auto target = ConnectChecksummer(sides.target_engine, setup.target_dsn);
  if (!target.ok()) return target.status().WithContext("target");
  sides.source_sums = std::move(*source);
  sides.target_sums = std::move(*target);
  return Status::Ok();
}

Result<Sides> Connect(const VerifySetup& setup, const VerifyOptions& options) {
  Sides sides;
  Result<Engine> source_engine = EngineOf(setup.source_engine);
  if (!source_engine.ok()) return source_engine.status().WithContext("source");
  Result<Engine> target_engine = EngineOf(setup.target_engine);
  if (!target_engine.ok()) return target_engine.status().WithContext("target");
  sides.source_engine = *source_engine;
  sides.target_engine = *target_engine;
  auto source_catalog = ConnectCatalog(sides.source_engine, setup.source_dsn, "source");
  if (!source_catalog.ok()) return source_catalog.status();
  auto target_catalog = ConnectCatalog(sides.target_engine, setup.target_dsn, "target");
  if (!target_catalog.ok()) return target_catalog.status();
  auto source = ConnectReader(sides.source_engine, setup.source_dsn, "source");
  if (!source.ok()) return source.status();
  auto target = ConnectReader(sides.target_engine, setup.target_dsn, "target");
  if (!target.ok()) return target.status();
  sides.source_catalog = std::move(*source_catalog);
  sides.target_catalog = std::move(*target_catalog);
  sides.source = std::move(*source);
  sides.target = std::move(*target);
  if (options.checksums && sides.source_engine == sides.target_engine) {
    FERRY_RETURN_IF_ERROR(ConnectChecksummers(setup, sides));
  }
  return sides;
}

// The replicated tables, or only those `--table` names (each must be replicated).
Result<std::vector<TableName>> TablesToVerify(const VerifySetup& setup, Catalog& source) {
  Result<std::vector<TableName>> replicated =
      ReplicatedTables(source, setup.source_tables, setup.publication);
  if (!replicated.ok()) return replicated.status();
  if (setup.only_tables.empty()) {
    if (replicated->empty()) {
      return Status::Error("the capture config's tables: name no table on the source");
    }
    return replicated;
  }
  std::vector<TableName> chosen;
  for (const std::string& name : setup.only_tables) {
    const TableName table = ParseTableName(name);
    if (std::find(replicated->begin(), replicated->end(), table) == replicated->end()) {
      return Status::Error("table " + table.Qualified() +
                           " is not replicated by the capture config (its tables: and, for "
                           "PostgreSQL, its publication): check the name");
    }
    chosen.push_back(table);
  }
  return chosen;
}

// One table, from describing both sides to the TableVerifier's report.
Result<TableReport> VerifyTable(const TableName& name, const VerifySetup& setup, Sides& sides,
                                const apply::TableMapper& mapper, const VerifyOptions& options) {
  Result<KeyedRelation> source = sides.source->Describe(name.schema, name.table);
  if (!source.ok()) return source.status().WithContext("source");
  Result<apply::MappedRelation> mapped = mapper.Map(source->relation);
  if (!mapped.ok()) return mapped.status().WithContext("mapping");
  const TableName target_name{mapped->target_schema, mapped->target_table};
  Result<bool> exists = sides.target_catalog->HasTable(target_name);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    return Status::Error("table " + target_name.Qualified() +
                         " does not exist on the target: create it, or map " + name.Qualified() +
                         " to its target table under mappings: in the apply config");
  }
  Result<KeyedRelation> target = sides.target->Describe(target_name.schema, target_name.table);
  if (!target.ok()) return target.status().WithContext("target");
  Result<RowPlan> plan = RowPlan::Build(*mapped, *source, sides.source_engine, *target,
                                        sides.target_engine, setup.zero_dates_as_null);
  if (!plan.ok()) return plan.status();
  TableVerifier verifier(
      *sides.source, *source, *sides.target, *target, *plan, options,
      [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); });
  std::optional<RowPlan::ChecksumColumns> checksummed = plan->ChecksumColumnsIfComparable();
  if (sides.source_sums && checksummed) {
    verifier.UseChecksums(*sides.source_sums, *sides.target_sums, std::move(*checksummed));
  }
  Result<TableReport> report = verifier.Run();
  if (report.ok() && report->checksum_chunks > 0) {
    Logger("verify")->info("{}: {} chunks compared by checksum, {} of them read row by row",
                           name.Qualified(), report->checksum_chunks,
                           report->chunks_read_row_by_row);
  }
  return report;
}

}  // namespace

VerifyReport Verify(const VerifySetup& setup, const VerifyOptions& options) {
  const Clock::time_point start = Clock::now();
  VerifyReport report;
  report.options = options;
  Result<Sides> sides = Connect(setup, options);
  if (!sides.ok()) {
    report.error = sides.message();
    return report;
  }
  Result<std::vector<TableName>> tables = TablesToVerify(setup, *sides->source_catalog);
  if (!tables.ok()) {
    report.error = tables.message();
    return report;
  }
  const apply::TableMapper mapper(setup.mappings);
  for (const TableName& name : *tables) {
    Logger("verify")->info("verifying {}", name.Qualified());
    Result<TableReport> table = VerifyTable(name, setup, *sides, mapper, options);
    if (table.ok()) {
      report.tables.push_back(std::move(*table));
      continue;
    }
    TableReport failed;
    failed.source_table = name.Qualified();
    failed.error = table.message();
    report.tables.push_back(std::move(failed));
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace ferry::verify
