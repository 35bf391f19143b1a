#include "apply/postgres/pg_ddl.h"

#include "apply/postgres/pg_text.h"

namespace ferry::apply::postgres {
namespace {

std::string Params(const SourceType& type) {
  if (type.params.empty()) return "";
  std::string text = "(";
  for (size_t i = 0; i < type.params.size(); ++i) {
    text += (i == 0 ? "" : ",") + std::to_string(type.params[i]);
  }
  return text + ")";
}

Result<std::string> OverrideType(wire::LogicalType type) {
  switch (type) {
    case wire::LOGICAL_TYPE_BOOL:
      return std::string("boolean");
    case wire::LOGICAL_TYPE_INT:
      return std::string("int8");
    case wire::LOGICAL_TYPE_TEXT:
      return std::string("text");
    case wire::LOGICAL_TYPE_JSON:
      return std::string("jsonb");
    case wire::LOGICAL_TYPE_BYTES:
      return std::string("bytea");
    default:
      return Status::Error("no PostgreSQL type for override type " + std::to_string(type));
  }
}

// A PostgreSQL source's type is valid here as Ferry names it, but for two names: the one-byte
// "char" type must be quoted (bare char is character(1)), and a built-in type Ferry has no name
// for arrives as "pg_type oid N".
Result<std::string> SameEngineType(const NewTable& table, const NewColumn& column) {
  const std::string& name = column.source.source_type();
  if (column.source_type.base == "pg_type") {
    return UnmappableColumn(table, column, "PostgreSQL", "Ferry does not know its name");
  }
  if (column.source_type.base == "char") return "\"char\"" + name.substr(4);
  return name;
}

Result<std::string> IntegerType(const SourceType& type) {
  const std::string& base = type.base;
  if (base == "tinyint") return std::string("int2");
  if (base == "smallint") return std::string(type.is_unsigned ? "int4" : "int2");
  if (base == "mediumint") return std::string("int4");
  if (base == "int") return std::string(type.is_unsigned ? "int8" : "int4");
  if (base == "bigint") return std::string(type.is_unsigned ? "numeric(20,0)" : "int8");
  if (base == "year") return std::string("int2");
  return Status::Error("not an integer type");
}

// A MySQL/MariaDB source's type (the header's table).
Result<std::string> FromMysql(const NewTable& table, const NewColumn& column) {
  const SourceType& type = column.source_type;
  const std::string& base = type.base;
  auto unmappable = [&](std::string_view why) {
    return UnmappableColumn(table, column, "PostgreSQL", why);
  };
  switch (column.source.type()) {
    case wire::LOGICAL_TYPE_INT:
    case wire::LOGICAL_TYPE_UINT: {
      Result<std::string> integer = IntegerType(type);
      if (!integer.ok()) return unmappable("an integer type Ferry does not know");
      return integer;
    }
    case wire::LOGICAL_TYPE_DECIMAL:
      if (type.params.size() != 2) return unmappable("a DECIMAL without precision and scale");
      return "numeric" + Params(type);
    case wire::LOGICAL_TYPE_FLOAT:
      return std::string(base == "float" ? "float4" : "float8");
    case wire::LOGICAL_TYPE_TEXT:
      if ((base == "char" || base == "varchar") && type.params.size() == 1) {
        return "varchar" + Params(type);
      }
      return std::string("text");
    case wire::LOGICAL_TYPE_ENUM:
    case wire::LOGICAL_TYPE_SET:
      return std::string("text");
    case wire::LOGICAL_TYPE_BYTES:
      return std::string("bytea");
    case wire::LOGICAL_TYPE_DATE:
      return std::string("date");
    case wire::LOGICAL_TYPE_TIME:
      return "interval" + Params(type);
    case wire::LOGICAL_TYPE_TIMESTAMP:
      return "timestamp" + Params(type);
    case wire::LOGICAL_TYPE_TIMESTAMP_TZ:
      return "timestamptz" + Params(type);
    case wire::LOGICAL_TYPE_BIT:
      if (type.params.size() != 1) return unmappable("a BIT without its length");
      return "bit" + Params(type);
    case wire::LOGICAL_TYPE_JSON:
      return std::string("jsonb");
    default:
      return unmappable("a type Ferry does not know");
  }
}

}  // namespace

Result<std::string> PgColumnType(const NewTable& table, const NewColumn& column) {
  if (column.override_type) {
    Result<std::string> type = OverrideType(*column.override_type);
    if (!type.ok()) return UnmappableColumn(table, column, "PostgreSQL", type.message());
    return type;
  }
  if (table.source_engine == SourceEngine::kPostgres) return SameEngineType(table, column);
  return FromMysql(table, column);
}

std::string PgIndexName(const NewTable& table, const NewIndex& index) {
  constexpr size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1
  const std::string name = table.source_engine == SourceEngine::kPostgres
                               ? index.source_name
                               : table.table + "_" + index.source_name;
  return TruncateIdentifier(name, kMaxIdentifierBytes);
}

Result<std::string> PgCreateIndexSql(const NewTable& table, const NewIndex& index) {
  std::string columns;
  for (const NewIndexColumn& part : index.columns) {
    const NewColumn& column = table.columns[part.column];
    std::string indexed = QuoteIdent(column.name);
    if (part.prefix_length > 0) {
      Result<std::string> type = PgColumnType(table, column);
      if (!type.ok()) return type.status();
      const std::string n = std::to_string(part.prefix_length);
      indexed = *type == "bytea" ? "(substring(" + indexed + " from 1 for " + n + "))"
                                 : "(left(" + indexed + ", " + n + "))";
    }
    columns += (columns.empty() ? "" : ", ") + indexed;
  }
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX IF NOT EXISTS " +
         QuoteIdent(PgIndexName(table, index)) + " ON " + QuoteIdent(table.schema) + "." +
         QuoteIdent(table.table) + " (" + columns + ")";
}

std::string PgCreateSchemaSql(const NewTable& table) {
  return "CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(table.schema);
}

Result<std::string> PgCreateTableSql(const NewTable& table) {
  std::string columns;
  for (const NewColumn& column : table.columns) {
    Result<std::string> type = PgColumnType(table, column);
    if (!type.ok()) return type.status();
    columns += (columns.empty() ? "" : ", ") + QuoteIdent(column.name) + " " + *type;
    if (column.primary_key) columns += " NOT NULL";
  }
  if (!table.primary_key.empty()) {
    std::string key;
    for (const std::string& name : table.primary_key) {
      key += (key.empty() ? "" : ", ") + QuoteIdent(name);
    }
    columns += ", PRIMARY KEY (" + key + ")";
  }
  return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(table.schema) + "." + QuoteIdent(table.table) +
         " (" + columns + ")";
}

}  // namespace ferry::apply::postgres
