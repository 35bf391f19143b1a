#include "apply/mysql/mysql_ddl.h"

#include <cctype>
#include <charconv>
#include <cstdint>

#include "apply/mysql/mysql_sql.h"

namespace ferry::apply::mysql {
namespace {

constexpr int64_t kMaxKeyBytes = 3072;     // InnoDB, 16 KiB pages
constexpr int64_t kBytesPerCharacter = 4;  // utf8mb4
// Longest character column kept as VARCHAR(n): one a key can index whole. Longer ones become
// LONGTEXT, which keeps rows clear of the 65,535-byte row limit VARCHARs count against.
constexpr int64_t kMaxVarcharLength = kMaxKeyBytes / kBytesPerCharacter;
constexpr int64_t kMaxDecimalPrecision = 65;
constexpr int64_t kMaxDecimalScale = 38;

// A column's target type before key lengths are shared out.
struct Choice {
  enum class Unbounded { kNo, kText, kBytes };
  std::string type;  // empty when unbounded
  Unbounded unbounded = Unbounded::kNo;
  int64_t key_bytes = 8;  // what the type costs a key (an estimate for fixed-size types)
  // Set when the type cannot be a key column at all.
  std::string not_a_key;
};

Choice Fixed(std::string type, int64_t key_bytes = 8) {
  return Choice{std::move(type), Choice::Unbounded::kNo, key_bytes, ""};
}
Choice UnboundedText() { return Choice{"", Choice::Unbounded::kText, 0, ""}; }
Choice UnboundedBytes() { return Choice{"", Choice::Unbounded::kBytes, 0, ""}; }
Choice NotAKey(std::string type, std::string why) {
  return Choice{std::move(type), Choice::Unbounded::kNo, 0, std::move(why)};
}

std::string Number(int64_t n) { return std::to_string(n); }

// CHAR(n) / VARCHAR(n) of `length` characters, or LONGTEXT beyond what a key can index.
Choice Characters(const std::string& type_name, std::optional<int64_t> length) {
  if (!length || *length > kMaxVarcharLength || *length < 0) return UnboundedText();
  return Fixed(type_name + "(" + Number(*length) + ")", *length * kBytesPerCharacter);
}

Choice Binary(const std::string& type_name, std::optional<int64_t> length) {
  if (!length || *length > kMaxKeyBytes || *length < 0) return UnboundedBytes();
  return Fixed(type_name + "(" + Number(*length) + ")", *length);
}

std::optional<int64_t> Length(const SourceType& type) {
  if (type.params.size() != 1) return std::nullopt;
  return type.params[0];
}

Result<Choice> OverrideChoice(wire::LogicalType type) {
  switch (type) {
    case wire::LOGICAL_TYPE_BOOL:
      return Fixed("BOOLEAN");
    case wire::LOGICAL_TYPE_INT:
      return Fixed("BIGINT");
    case wire::LOGICAL_TYPE_TEXT:
      return UnboundedText();
    case wire::LOGICAL_TYPE_JSON:
      return NotAKey("JSON", "MySQL/MariaDB cannot index JSON");
    case wire::LOGICAL_TYPE_BYTES:
      return UnboundedBytes();
    default:
      return Status::Error("no MySQL/MariaDB type for override type " + std::to_string(type));
  }
}

// A MySQL/MariaDB source's type, which holds its values here too, but for the few the header
// names.
Result<Choice> SameEngineChoice(const NewColumn& column) {
  const SourceType& type = column.source_type;
  const std::string& base = type.base;
  const std::string& name = column.source.source_type();
  switch (column.source.type()) {
    case wire::LOGICAL_TYPE_ENUM:
      return Fixed("VARCHAR(255)", 255 * kBytesPerCharacter);  // a member has <= 255 characters
    case wire::LOGICAL_TYPE_SET:
      return UnboundedText();
    case wire::LOGICAL_TYPE_JSON:
      return NotAKey("JSON", "MySQL/MariaDB cannot index JSON");
    case wire::LOGICAL_TYPE_TEXT:
      if (base == "char" || base == "varchar") return Characters(base, Length(type));
      return column.primary_key ? UnboundedText() : Fixed(name);
    case wire::LOGICAL_TYPE_BYTES:
      if (base == "binary" || base == "varbinary") return Binary(base, Length(type));
      if (base.ends_with("blob") && !column.primary_key) return Fixed(name);
      return UnboundedBytes();  // blobs in a key, GEOMETRY, VECTOR
    case wire::LOGICAL_TYPE_DECIMAL:
      if (type.params.size() != 2) return Status::Error("a DECIMAL without precision and scale");
      return Fixed(name);
    case wire::LOGICAL_TYPE_OTHER:
    case wire::LOGICAL_TYPE_UNSPECIFIED:
      return Status::Error("a type Ferry does not know");
    default:
      return Fixed(name);
  }
}

Result<Choice> PgInteger(const std::string& base) {
  if (base == "int2") return Fixed("SMALLINT");
  if (base == "int4") return Fixed("INT");
  if (base == "int8") return Fixed("BIGINT");
  if (base == "oid") return Fixed("INT UNSIGNED");
  return Status::Error("an integer type Ferry does not know");
}

Result<Choice> PgDecimal(const SourceType& type) {
  if (type.params.empty()) return Fixed("DECIMAL(65,30)");
  if (type.params.size() != 2) return Status::Error("a numeric modifier Ferry does not know");
  int64_t precision = type.params[0];
  int64_t scale = type.params[1];
  if (scale < 0) {  // numeric(5,-2) holds integers of up to 7 digits
    precision -= scale;
    scale = 0;
  }
  if (precision > kMaxDecimalPrecision || scale > kMaxDecimalScale || scale > precision) {
    return Status::Error("DECIMAL holds at most 65 digits, 38 of them after the point");
  }
  return Fixed("DECIMAL(" + Number(precision) + "," + Number(scale) + ")");
}

std::string Fraction(const SourceType& type) {
  return "(" + Number(type.params.empty() ? 6 : type.params[0]) + ")";
}

// A PostgreSQL source's type (the header's table).
Result<Choice> FromPostgres(const NewColumn& column, const MysqlDialect& dialect) {
  const SourceType& type = column.source_type;
  const std::string& base = type.base;
  if (type.is_array) return NotAKey("JSON", "MySQL/MariaDB cannot index JSON (arrays become JSON)");
  switch (column.source.type()) {
    case wire::LOGICAL_TYPE_BOOL:
      return Fixed("BOOLEAN");
    case wire::LOGICAL_TYPE_INT:
      return PgInteger(base);
    case wire::LOGICAL_TYPE_DECIMAL:
      return PgDecimal(type);
    case wire::LOGICAL_TYPE_FLOAT:
      return Fixed(base == "float4" ? "FLOAT" : "DOUBLE");
    case wire::LOGICAL_TYPE_TEXT:
      if (base == "varchar") return Characters("VARCHAR", Length(type));
      if (base == "bpchar") {
        std::optional<int64_t> length = Length(type);
        return Characters(length && *length <= 255 ? "CHAR" : "VARCHAR", length);
      }
      if (base == "name") return Characters("VARCHAR", 64);
      return UnboundedText();
    case wire::LOGICAL_TYPE_BYTES:
      return UnboundedBytes();
    case wire::LOGICAL_TYPE_DATE:
      return Fixed("DATE");
    case wire::LOGICAL_TYPE_TIME:
      return Fixed("TIME" + Fraction(type));
    case wire::LOGICAL_TYPE_TIME_TZ:
      return Characters("VARCHAR", 32);
    case wire::LOGICAL_TYPE_TIMESTAMP:
    case wire::LOGICAL_TYPE_TIMESTAMP_TZ:
      return Fixed("DATETIME" + Fraction(type));
    case wire::LOGICAL_TYPE_INTERVAL:
      return Characters("VARCHAR", 100);
    case wire::LOGICAL_TYPE_JSON:
      return NotAKey("JSON", "MySQL/MariaDB cannot index JSON");
    case wire::LOGICAL_TYPE_UUID:
      return dialect.mariadb ? Fixed("UUID", 16) : Fixed("CHAR(36)", 36 * kBytesPerCharacter);
    case wire::LOGICAL_TYPE_BIT: {
      std::optional<int64_t> length = Length(type);
      if (base == "bit" && length && *length <= 64) return Fixed("BIT(" + Number(*length) + ")");
      return Characters("VARCHAR", length);
    }
    default:  // enums, ranges, inet, money, ...: their text form
      return UnboundedText();
  }
}

Result<Choice> ChooseType(const NewTable& table, const NewColumn& column,
                          const MysqlDialect& dialect) {
  if (column.override_type) return OverrideChoice(*column.override_type);
  if (table.source_engine == SourceEngine::kMysql) return SameEngineChoice(column);
  return FromPostgres(column, dialect);
}

}  // namespace

Result<std::vector<std::string>> MysqlColumnTypes(const NewTable& table,
                                                  const MysqlDialect& dialect) {
  std::vector<Choice> choices;
  int64_t key_room = kMaxKeyBytes;
  int64_t unbounded_keys = 0;
  for (const NewColumn& column : table.columns) {
    Result<Choice> choice = ChooseType(table, column, dialect);
    if (!choice.ok()) return UnmappableColumn(table, column, "MySQL/MariaDB", choice.message());
    if (column.primary_key) {
      if (!choice->not_a_key.empty()) {
        return UnmappableColumn(table, column, "MySQL/MariaDB", choice->not_a_key + " in a key");
      }
      if (choice->unbounded == Choice::Unbounded::kNo) {
        key_room -= choice->key_bytes;
      } else {
        ++unbounded_keys;
      }
    }
    choices.push_back(std::move(*choice));
  }
  const int64_t share = unbounded_keys == 0 ? 0 : key_room / unbounded_keys;
  std::vector<std::string> types;
  for (size_t i = 0; i < choices.size(); ++i) {
    const Choice& choice = choices[i];
    const NewColumn& column = table.columns[i];
    if (choice.unbounded == Choice::Unbounded::kNo) {
      types.push_back(choice.type);
      continue;
    }
    const bool text = choice.unbounded == Choice::Unbounded::kText;
    if (!column.primary_key) {
      types.push_back(text ? "LONGTEXT" : "LONGBLOB");
      continue;
    }
    const int64_t length = text ? share / kBytesPerCharacter : share;
    if (length < 1) {
      return UnmappableColumn(table, column, "MySQL/MariaDB",
                              "the key's other columns leave it none of the 3072 bytes InnoDB "
                              "indexes");
    }
    types.push_back((text ? "VARCHAR(" : "VARBINARY(") + Number(length) + ")");
  }
  return types;
}

namespace {

bool EndsWith(const std::string& text, std::string_view suffix) {
  std::string lower;
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower.ends_with(suffix);
}

// Bytes a key spends on `length` units of a text (4 a character) or binary column.
int64_t UnitBytes(const std::string& type) {
  return EndsWith(type, "blob") ? 1 : kBytesPerCharacter;
}

// What a whole value of a column of target type `type` costs a key: `choice`'s estimate, or for a
// key column shortened to VARCHAR(n) / VARBINARY(n), n units.
int64_t WholeValueBytes(const Choice& choice, const std::string& type) {
  if (choice.unbounded == Choice::Unbounded::kNo) return choice.key_bytes;
  const size_t open = type.find('(');
  int64_t length = 0;
  if (open != std::string::npos) {
    std::from_chars(type.data() + open + 1, type.data() + type.size(), length);
  }
  return length * (choice.unbounded == Choice::Unbounded::kText ? kBytesPerCharacter : 1);
}

}  // namespace

std::string MysqlIndexName(const NewIndex& index) {
  constexpr size_t kMaxIdentifierBytes = 64;
  return TruncateIdentifier(index.source_name, kMaxIdentifierBytes);
}

Result<std::string> MysqlCreateIndexSql(const NewTable& table, const NewIndex& index,
                                        const MysqlDialect& dialect) {
  Result<std::vector<std::string>> types = MysqlColumnTypes(table, dialect);
  if (!types.ok()) return types.status();
  // First pass: what the columns indexed whole or by the source's prefix cost, and how many
  // TEXT / BLOB columns share what is left.
  int64_t key_room = kMaxKeyBytes;
  int64_t sharing = 0;
  std::vector<bool> shares(index.columns.size(), false);
  for (size_t i = 0; i < index.columns.size(); ++i) {
    const NewIndexColumn& part = index.columns[i];
    const NewColumn& column = table.columns[part.column];
    const std::string& type = (*types)[part.column];
    Result<Choice> choice = ChooseType(table, column, dialect);
    if (!choice.ok()) return choice.status();
    if (!choice->not_a_key.empty()) return Status::Error(choice->not_a_key);
    const bool unbounded = EndsWith(type, "text") || EndsWith(type, "blob");
    if (part.prefix_length > 0) {
      key_room -= part.prefix_length * UnitBytes(type);
    } else if (!unbounded) {
      key_room -= WholeValueBytes(*choice, type);
    } else if (index.unique && dialect.mariadb) {
      // MariaDB's long unique index hashes the whole value: no prefix, no room spent.
    } else if (index.unique) {
      return Status::Error("column " + column.name + " is " + type +
                           ", and MySQL indexes a TEXT or BLOB only by a prefix, which a unique "
                           "index cannot use without changing what it allows");
    } else {
      shares[i] = true;
      ++sharing;
    }
  }
  const int64_t share = sharing == 0 ? 0 : key_room / sharing;
  std::string columns;
  for (size_t i = 0; i < index.columns.size(); ++i) {
    const NewIndexColumn& part = index.columns[i];
    const std::string& type = (*types)[part.column];
    int64_t prefix = part.prefix_length;
    if (shares[i]) {
      prefix = share / UnitBytes(type);
      if (prefix < 1) {
        return Status::Error("its other columns leave column " + table.columns[part.column].name +
                             " none of the 3072 bytes InnoDB indexes");
      }
    }
    columns += (i == 0 ? "" : ", ") + QuoteIdent(table.columns[part.column].name) +
               (prefix > 0 ? "(" + Number(prefix) + ")" : "");
  }
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " +
         (dialect.mariadb ? "IF NOT EXISTS " : "") + QuoteIdent(MysqlIndexName(index)) + " ON " +
         QuoteIdent(table.schema) + "." + QuoteIdent(table.table) + " (" + columns + ")";
}

std::string MysqlCreateDatabaseSql(const NewTable& table) {
  return "CREATE DATABASE IF NOT EXISTS " + QuoteIdent(table.schema) + " CHARACTER SET utf8mb4";
}

Result<std::string> MysqlCreateTableSql(const NewTable& table, const MysqlDialect& dialect) {
  Result<std::vector<std::string>> types = MysqlColumnTypes(table, dialect);
  if (!types.ok()) return types.status();
  std::string columns;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const NewColumn& column = table.columns[i];
    // NULL spelled out: a TIMESTAMP column is otherwise NOT NULL with an automatic value on
    // servers with explicit_defaults_for_timestamp off.
    columns += (i == 0 ? "" : ", ") + QuoteIdent(column.name) + " " + (*types)[i] +
               (column.primary_key ? " NOT NULL" : " NULL");
  }
  if (!table.primary_key.empty()) {
    std::string key;
    for (const std::string& name : table.primary_key) {
      key += (key.empty() ? "" : ", ") + QuoteIdent(name);
    }
    columns += ", PRIMARY KEY (" + key + ")";
  }
  const std::string collation = dialect.mariadb ? "utf8mb4_nopad_bin" : "utf8mb4_bin";
  return "CREATE TABLE IF NOT EXISTS " + QuoteIdent(table.schema) + "." + QuoteIdent(table.table) +
         " (" + columns + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=" + collation;
}

}  // namespace ferry::apply::mysql
