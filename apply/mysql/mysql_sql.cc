#include "apply/mysql/mysql_sql.h"

#include <algorithm>
#include <charconv>

#include "apply/key_range_sql.h"
#include "apply/row_applier.h"

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

Result<std::string> Unquote(const std::string& text, size_t* pos) {
  std::string value;
  for (++*pos; *pos < text.size(); ++*pos) {
    const char c = text[*pos];
    if (c == '\'') {
      ++*pos;
      return value;
    }
    if (c == '\\' && *pos + 1 < text.size()) ++*pos;
    value.push_back(text[*pos]);
  }
  return Status::Error("unterminated quoted value in the target dsn");
}

Status SetNumber(const std::string& key, const std::string& value, unsigned max, unsigned* out) {
  unsigned number = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size() || number > max) {
    return Status::Error("target dsn: " + key + "=" + value + " is not a number up to " +
                         std::to_string(max));
  }
  *out = number;
  return Status::Ok();
}

Status SetKey(const std::string& key, const std::string& value, Dsn* dsn) {
  unsigned number = 0;
  if (key == "host") {
    dsn->host = value;
  } else if (key == "port") {
    FERRY_RETURN_IF_ERROR(SetNumber(key, value, 65535, &number));
    dsn->port = static_cast<uint16_t>(number);
  } else if (key == "user") {
    dsn->user = value;
  } else if (key == "password") {
    dsn->password = value;
  } else if (key == "dbname") {
    dsn->dbname = value;
  } else if (key == "socket") {
    dsn->socket = value;
  } else if (key == "connect_timeout") {
    FERRY_RETURN_IF_ERROR(SetNumber(key, value, 86400, &dsn->connect_timeout));
  } else if (key == "read_timeout" || key == "write_timeout") {
    FERRY_RETURN_IF_ERROR(SetNumber(key, value, 86400, &number));
    (key == "read_timeout" ? dsn->read_timeout : dsn->write_timeout) = number;
  } else {
    return Status::Error("target dsn: unknown key \"" + key +
                         "\" (known: host, port, user, password, dbname, socket, "
                         "connect_timeout, read_timeout, write_timeout)");
  }
  return Status::Ok();
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
                           ComparePlaceholder(target_column.type)};
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

Statement InsertRowsStatement(const TargetTable& target,
                              const std::vector<std::vector<BoundColumn>>& rows) {
  Statement statement;
  std::string tuples;
  for (const std::vector<BoundColumn>& row : rows) {
    std::string values;
    for (const BoundColumn& column : row) {
      values += values.empty() ? "?" : ", ?";
      statement.params.push_back(column.value);
    }
    tuples += (tuples.empty() ? "(" : ", (") + values + ")";
  }
  statement.sql =
      "INSERT INTO " + target.quoted() + " (" + JoinQuoted(rows.front()) + ") VALUES " + tuples;
  return statement;
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

Result<Dsn> ParseDsn(const std::string& text) {
  Dsn dsn;
  size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t\n", pos);
    if (pos == std::string::npos) break;
    const size_t equals = text.find('=', pos);
    if (equals == std::string::npos) {
      return Status::Error("target dsn: \"" + text.substr(pos) +
                           "\" is not key=value (e.g. host=127.0.0.1 port=3306 user=ferry "
                           "dbname=app)");
    }
    const std::string key = text.substr(pos, equals - pos);
    pos = equals + 1;
    std::string value;
    if (pos < text.size() && text[pos] == '\'') {
      Result<std::string> quoted = Unquote(text, &pos);
      if (!quoted.ok()) return quoted.status();
      value = std::move(quoted).value();
    } else {
      const size_t end = std::min(text.find_first_of(" \t\n", pos), text.size());
      value = text.substr(pos, end - pos);
      pos = end;
    }
    FERRY_RETURN_IF_ERROR(SetKey(key, value, &dsn));
  }
  return dsn;
}

}  // namespace ferry::apply::mysql
