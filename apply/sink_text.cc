#include "apply/sink_text.h"

#include <chrono>
#include <cstdio>

#include "wire/position.h"

namespace ferry::apply {

const char* OpName(wire::RowChange::Op op) {
  switch (op) {
    case wire::RowChange::INSERT:
      return "INSERT";
    case wire::RowChange::UPDATE:
      return "UPDATE";
    case wire::RowChange::DELETE:
      return "DELETE";
    case wire::RowChange::TRUNCATE:
      return "TRUNCATE";
    default:
      return "UNKNOWN";
  }
}

std::string TargetShape(const MappedRelation& relation) {
  std::string shape;
  for (const MappedColumn& column : relation.columns) {
    // NUL cannot occur in an identifier, so names cannot run into each other.
    shape += column.target_name;
    shape.push_back('\0');
    shape.push_back(column.key ? 'k' : '-');
  }
  return shape;
}

// A Begin without a position leaves nothing to record as the checkpoint.
static Status CheckBeginPosition(const std::string& context, const wire::Begin& begin) {
  if (wire::IsStreamPosition(begin.position())) return Status::Ok();
  return Status::Error(context +
                       ": the Begin carries no position, so no checkpoint can be "
                       "recorded: the change stream is malformed");
}

Status CheckBegin(const std::string& upstream, const wire::Begin& begin, bool in_transaction) {
  const std::string context = "begin transaction for upstream " + upstream;
  if (in_transaction) {
    return Status::Error(context + ": a transaction is already open (commit or abort it first)");
  }
  return CheckBeginPosition(context, begin);
}

Status CheckContinue(const std::string& upstream, const wire::Begin& begin, bool in_transaction) {
  const std::string context = "continue transaction for upstream " + upstream;
  if (!in_transaction) return Status::Error(context + ": no transaction is open to group it into");
  return CheckBeginPosition(context, begin);
}

Status CheckImageSize(const MappedRelation& relation, int values) {
  if (values == relation.source.columns_size()) return Status::Ok();
  return Status::Error("row has " + std::to_string(values) + " values but relation " +
                       relation.source.schema() + "." + relation.source.table() + " has " +
                       std::to_string(relation.source.columns_size()) +
                       " columns: the change stream is malformed");
}

Status MissingTargetColumn(const std::string& target, const MappedColumn& column) {
  return Status::Error("target table " + target + " has no column " + column.target_name +
                       " (from source column " + column.source.name() +
                       "): add it on the target, or rename or exclude it in the mapping");
}

std::string EpochMicrosText(int64_t micros) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds(micros)};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss<microseconds> clock{time - day};
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02ld:%02ld:%02ld.%06ld",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long>(clock.hours().count()),
                static_cast<long>(clock.minutes().count()),
                static_cast<long>(clock.seconds().count()),
                static_cast<long>(clock.subseconds().count()));
  return buffer;
}

}  // namespace ferry::apply
