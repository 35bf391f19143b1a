#include "capture/postgres/pg_retention.h"

#include <libpq-fe.h>

#include <charconv>

#include "capture/postgres/pg_connection.h"

namespace ferry::capture::postgres {
namespace {

constexpr char kRetentionSql[] =
    "SELECT slot_name, coalesce(wal_status, ''),"
    " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint,"
    " coalesce(safe_wal_size, -1),"
    " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
    " FROM pg_replication_slots WHERE slot_type = 'logical' AND starts_with(slot_name, $1)"
    " ORDER BY slot_name";
constexpr char kHeadSql[] = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint";

int64_t Number(pg_result* result, int row, int column) {
  const char* text = PQgetvalue(result, row, column);
  int64_t value = 0;
  std::from_chars(text, text + std::strlen(text), value);
  return value;
}

Result<RetentionSample> Probe(const std::string& dsn, const std::string& slot_prefix) {
  auto connection = PgConnection::Connect(dsn);
  if (!connection.ok()) return connection.status();
  auto head = (*connection)->Query(kHeadSql, {}, {}, "reading the WAL position");
  if (!head.ok()) return head.status();
  RetentionSample sample;
  sample.head_bytes = static_cast<uint64_t>(Number(head->get(), 0, 0));
  auto slots =
      (*connection)->Query(kRetentionSql, {slot_prefix + "_"}, {}, "reading pg_replication_slots");
  if (!slots.ok()) return slots.status();
  for (int row = 0; row < PQntuples(slots->get()); ++row) {
    BookmarkRetention bookmark;
    bookmark.name = PQgetvalue(slots->get(), row, 0);
    bookmark.status = PQgetvalue(slots->get(), row, 1);
    bookmark.retained_bytes =
        static_cast<uint64_t>(std::max<int64_t>(0, Number(slots->get(), row, 2)));
    bookmark.bytes_until_lost = Number(slots->get(), row, 3);
    sample.bookmarks.push_back(std::move(bookmark));
  }
  return sample;
}

}  // namespace

RetentionProbe PgRetentionProbe(std::string dsn, std::string slot_prefix) {
  return [dsn = std::move(dsn), slot_prefix = std::move(slot_prefix)](
             const std::vector<AcknowledgedPosition>&) { return Probe(dsn, slot_prefix); };
}

}  // namespace ferry::capture::postgres
