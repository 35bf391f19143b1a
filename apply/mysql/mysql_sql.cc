#include "apply/mysql/mysql_sql.h"

#include <algorithm>
#include <charconv>

#include "apply/key_range_sql.h"
#include "apply/row_applier.h"
#include "apply/sink_text.h"

namespace ferry::apply::mysql {
namespace {

std::string JoinQuoted(const std::vector<BoundColumn>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteIdent(columns[i].name);
  }
  return out;
}

// "a <=> ? AND b <=> CAST(? AS DECIMAL(10,2))", recording the parameters.
std::string MatchCondition(const std::vector<BoundColumn>& match, Statement* statement) {
  std::string sql;
  for (size_t i = 0; i < match.size(); ++i) {
    if (i > 0) sql += " AND ";
    sql += QuoteIdent(match[i].name) + " <=> " + match[i].placeholder;
    statement->params.push_back(match[i].value);
  }
  return sql;
}

}  // namespace

std::string QuoteIdent(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  out.push_back('`');
  return out;
}

std::string TargetTable::quoted() const { return QuoteIdent(schema) + "." + QuoteIdent(table); }

const TargetColumn* TargetTable::Find(const std::string& column) const {
  for (const TargetColumn& candidate : columns) {
    if (candidate.name == column) return &candidate;
  }
  return nullptr;
}

void FlagIdentityIndexes(TargetTable* target) {
  for (UniqueIndex& index : target->unique_indexes) {
    index.identity = std::all_of(index.columns.begin(), index.columns.end(), [&](const auto& name) {
      const TargetColumn* column = target->Find(name);
      return column != nullptr && !column->nullable;
    });
  }
}

std::string ComparePlaceholder(const ColumnType& type) {
  const TypeClass cls = ClassOf(type);
  if (cls == TypeClass::kDecimal) {
    return "CAST(? AS DECIMAL(" + std::to_string(type.precision.value_or(10)) + "," +
           std::to_string(type.scale.value_or(0)) + "))";
  }
  if (cls == TypeClass::kJson) return "CAST(? AS JSON)";
  // A single-precision column against a double parameter would compare 0.1f with 0.1 and differ.
  if (cls == TypeClass::kFloat) return "CAST(? AS FLOAT)";
  return "?";
}

Result<std::vector<BoundColumn>> BindImage(
    const MappedRelation& relation, const TargetTable& target,
    const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  return BindMapped<BoundColumn>(
      relation, target, values,
      [](const MappedColumn& column, const TargetColumn& target_column,
         const wire::Value& value) -> Result<BoundColumn> {
        Result<Param> param = ToParam(value, target_column.type);
        if (!param.ok()) return param.status().WithContext("column " + column.target_name);
        return BoundColumn{column.target_name, std::move(param).value(),
                           ComparePlaceholder(target_column.type), target_column.json_text};
      });
}

Statement InsertStatement(const TargetTable& target, const std::vector<BoundColumn>& columns) {
  Statement statement;
  std::string values;
  for (const BoundColumn& column : columns) {
    values += values.empty() ? "?" : ", ?";
    statement.params.push_back(column.value);
  }
  statement.sql =
      "INSERT INTO " + target.quoted() + " (" + JoinQuoted(columns) + ") VALUES (" + values + ")";
  return statement;
}

std::string InsertLiteralsHead(const TargetTable& target, const std::vector<BoundColumn>& columns) {
  return "INSERT INTO " + target.quoted() + " (" + JoinQuoted(columns) + ") VALUES ";
}

void AppendLiteralTuple(const std::vector<BoundColumn>& row, std::string* out) {
  out->push_back('(');
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out->append(", ");
    AppendLiteral(row[i].value, out);
  }
  out->push_back(')');
}

Statement UpdateStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                          const std::vector<BoundColumn>& match, bool one_row) {
  Statement statement;
  std::string assignments;
  for (const BoundColumn& column : set) {
    if (!assignments.empty()) assignments += ", ";
    assignments += QuoteIdent(column.name) + " = ?";
    statement.params.push_back(column.value);
  }
  if (set.empty() && !match.empty()) {
    assignments = QuoteIdent(match[0].name) + " = " + QuoteIdent(match[0].name);
  }
  statement.sql = "UPDATE " + target.quoted() + " SET " + assignments + " WHERE " +
                  MatchCondition(match, &statement);
  if (one_row) statement.sql += " LIMIT 1";
  return statement;
}

Statement DeleteStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                          bool one_row) {
  Statement statement;
  statement.sql = "DELETE FROM " + target.quoted() + " WHERE " + MatchCondition(match, &statement);
  if (one_row) statement.sql += " LIMIT 1";
  return statement;
}

Statement ReadLocalStatement(const TargetTable& target, const std::vector<BoundColumn>& match,
                             const std::vector<BoundColumn>& compare, const BoundColumn* order) {
  Statement statement;
  std::string select;
  for (const TargetColumn& column : target.columns) {
    select += (select.empty() ? "" : ", ") + QuoteIdent(column.name);
  }
  for (const BoundColumn& column : compare) {
    const std::string name = QuoteIdent(column.name);
    select += ", (" + name + " <=> " + column.placeholder;
    statement.params.push_back(column.value);
    if (column.json_text) {
      select += " OR JSON_EQUALS(" + name + ", ?)";
      statement.params.push_back(column.value);
    }
    select += ")";
  }
  if (order != nullptr) {
    const std::string name = QuoteIdent(order->name);
    select += ", CASE WHEN " + name + " IS NULL THEN NULL WHEN " + order->placeholder + " > " +
              name + " THEN 1 WHEN " + order->placeholder + " < " + name + " THEN -1 ELSE 0 END";
    statement.params.push_back(order->value);
    statement.params.push_back(order->value);
  }
  statement.sql = "SELECT " + select + " FROM " + target.quoted() + " WHERE " +
                  MatchCondition(match, &statement) + " LIMIT 1 FOR UPDATE";
  return statement;
}

Statement MergeStatement(const TargetTable& target, const std::vector<BoundColumn>& set,
                         const std::vector<DeltaTerm<BoundColumn>>& deltas,
                         const std::vector<BoundColumn>& match) {
  Statement statement;
  std::string assignments;
  for (const BoundColumn& column : set) {
    assignments += (assignments.empty() ? "" : ", ") + QuoteIdent(column.name) + " = ?";
    statement.params.push_back(column.value);
  }
  for (const auto& [add, subtract] : deltas) {
    const std::string name = QuoteIdent(add.name);
    std::string sum = "COALESCE(" + name + ", 0) + (COALESCE(" + add.placeholder + ", 0)";
    statement.params.push_back(add.value);
    if (subtract) {
      sum += " - COALESCE(" + subtract->placeholder + ", 0)";
      statement.params.push_back(subtract->value);
    }
    assignments += (assignments.empty() ? "" : ", ") + name + " = " + sum + ")";
  }
  statement.sql = "UPDATE " + target.quoted() + " SET " + assignments + " WHERE " +
                  MatchCondition(match, &statement);
  return statement;
}

Statement DeleteAllStatement(const TargetTable& target) {
  return {"DELETE FROM " + target.quoted(), {}};
}

Statement DeleteRangeStatement(const TargetTable& target,
                               const std::optional<std::vector<BoundColumn>>& after,
                               const std::optional<std::vector<BoundColumn>>& upto,
                               const std::vector<std::vector<BoundColumn>>& keep) {
  Statement statement;
  statement.sql = KeyRangeDeleteSql<BoundColumn>(target.quoted(), after, upto, keep, QuoteIdent,
                                                 [&](const BoundColumn& column) {
                                                   statement.params.push_back(column.value);
                                                   return column.placeholder;
                                                 });
  return statement;
}

Result<std::vector<CopyColumn>> CopyColumns(const MappedRelation& relation,
                                            const TargetTable& target) {
  Result<std::vector<const TargetColumn*>> targets = MappedTargetColumns(relation, target);
  if (!targets.ok()) return targets.status();
  std::vector<CopyColumn> columns;
  columns.reserve(relation.columns.size());
  for (size_t i = 0; i < relation.columns.size(); ++i) {
    const TargetColumn& column = *(*targets)[i];
    columns.push_back({relation.columns[i].target_name, relation.columns[i].source_index,
                       &column.type, ClassOf(column.type)});
  }
  return columns;
}

namespace {

// The escape sequence (after a backslash) for a character a quoted literal must not hold as it
// is, or 0.
char EscapeOf(char c) {
  switch (c) {
    case '\0':
      return '0';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\x1a':
      return 'Z';
    case '\\':
    case '\'':
    case '"':
      return c;
    default:
      return 0;
  }
}

// Appends `text` with each such character escaped; runs without one are appended whole.
void AppendEscaped(std::string_view text, std::string* out) {
  size_t from = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char escape = EscapeOf(text[i]);
    if (escape == 0) continue;
    out->append(text.substr(from, i - from));
    out->push_back('\\');
    out->push_back(escape);
    from = i + 1;
  }
  out->append(text.substr(from));
}

}  // namespace

void AppendLiteral(const Param& param, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  switch (param.kind) {
    case Param::Kind::kNull:
      out->append("NULL");
      return;
    case Param::Kind::kInt64:
      out->append(std::to_string(param.int64));
      return;
    case Param::Kind::kUInt64:
      out->append(std::to_string(param.uint64));
      return;
    case Param::Kind::kDouble: {
      const std::string text = ShortestText(param.float64);
      out->append(text);
      if (text.find_first_of("eE") == std::string::npos) out->append("e0");
      return;
    }
    case Param::Kind::kString:
      out->push_back('\'');
      AppendEscaped(param.text, out);
      out->push_back('\'');
      return;
    case Param::Kind::kBytes:
      out->append("X'");
      for (unsigned char byte : param.text) {
        out->push_back(kHex[byte >> 4]);
        out->push_back(kHex[byte & 0x0f]);
      }
      out->push_back('\'');
      return;
  }
}

std::string InlineParams(const Statement& statement) {
  std::string out;
  out.reserve(statement.sql.size() + 16 * statement.params.size());
  size_t next = 0;
  bool in_name = false;  // between backquotes; a doubled backquote inside stays inside
  for (char c : statement.sql) {
    if (c == '`') in_name = !in_name;
    if (c == '?' && !in_name && next < statement.params.size()) {
      AppendLiteral(statement.params[next++], &out);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string BatchStatement(const std::vector<BatchEntry>& entries) {
  std::string out = "BEGIN NOT ATOMIC SET @ferry_counts = NULL; ";
  for (const BatchEntry& entry : entries) {
    out += entry.sql;
    out += "; SET @ferry_counts = CONCAT_WS(',', @ferry_counts, ROW_COUNT()); ";
  }
  out += "SELECT @ferry_counts; END";
  return out;
}

std::string EncodeBatchKey(const std::vector<BoundColumn>& key) {
  std::string out;
  for (const BoundColumn& column : key) {
    const Param& value = column.value;
    switch (value.kind) {
      case Param::Kind::kNull:
        out += "N";
        break;
      case Param::Kind::kInt64:
        out += std::to_string(value.int64);
        break;
      case Param::Kind::kUInt64:
        out += std::to_string(value.uint64);
        break;
      case Param::Kind::kBytes:
        out += "b" + std::to_string(value.text.size()) + ":" + value.text;
        break;
      case Param::Kind::kString:
      case Param::Kind::kDouble:
        return "collated";
    }
    out.push_back(';');
  }
  return out;
}

Result<std::vector<uint64_t>> ParseBatchCounts(const std::optional<std::string>& text) {
  std::vector<uint64_t> counts;
  if (!text || text->empty()) return counts;
  size_t at = 0;
  while (at <= text->size()) {
    const size_t comma = std::min(text->find(',', at), text->size());
    uint64_t count = 0;
    const char* first = text->data() + at;
    const char* last = text->data() + comma;
    auto [end, error] = std::from_chars(first, last, count);
    if (error != std::errc() || end != last) {
      return Status::Error("the target's row counts of a batch are not numbers: \"" + *text + "\"");
    }
    counts.push_back(count);
    at = comma + 1;
  }
  return counts;
}

Status AppendCopyTuple(const MappedRelation& relation, const std::vector<CopyColumn>& columns,
                       const google::protobuf::RepeatedPtrField<wire::Value>& image,
                       std::string* out) {
  FERRY_RETURN_IF_ERROR(CheckImageSize(relation, image.size()));
  out->push_back('(');
  for (size_t i = 0; i < columns.size(); ++i) {
    const CopyColumn& column = columns[i];
    Result<Param> param = ToParam(image.Get(column.source_index), *column.type, column.cls);
    if (!param.ok()) return param.status().WithContext("column " + column.name);
    if (i > 0) out->append(", ");
    AppendLiteral(*param, out);
  }
  out->push_back(')');
  return Status::Ok();
}

std::string CopyInsertHead(const TargetTable& target, const std::vector<CopyColumn>& columns) {
  std::string names;
  for (const CopyColumn& column : columns) {
    names += (names.empty() ? "" : ", ") + QuoteIdent(column.name);
  }
  return "INSERT INTO " + target.quoted() + " (" + names + ") VALUES ";
}

std::string CopyInsertTail(const std::vector<CopyColumn>& columns,
                           const std::vector<std::string>* arbiter) {
  if (arbiter == nullptr || arbiter->empty()) return "";
  // Assignments run left to right, each seeing the ones before: the check comes first, while
  // the row met still has its own values.
  std::string same;
  for (const std::string& name : *arbiter) {
    same +=
        (same.empty() ? "" : " AND ") + QuoteIdent(name) + " <=> VALUES(" + QuoteIdent(name) + ")";
  }
  const std::string first = QuoteIdent(arbiter->front());
  std::string tail =
      " ON DUPLICATE KEY UPDATE " + first + " = IF(" + same + ", " + first + ", NULL)";
  for (const CopyColumn& column : columns) {
    if (std::find(arbiter->begin(), arbiter->end(), column.name) != arbiter->end()) continue;
    const std::string name = QuoteIdent(column.name);
    tail += ", " + name + " = VALUES(" + name + ")";
  }
  return tail;
}

}  // namespace ferry::apply::mysql
