#include "capture/mysql/statement_effect.h"

#include <cctype>
#include <optional>
#include <set>
#include <utility>

namespace ferry::capture::mysql {
namespace {

// ---- tokens -----------------------------------------------------------------------------------

struct Token {
  enum class Type { kWord, kQuotedName, kString, kPunct };
  Type type;
  std::string text;  // a word as written, a quoted name or string unquoted, one punctuation char
};

bool IsWordChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

// Splits SQL into tokens, dropping comments. The text inside an executable comment
// (/*!40101 ... */, /*M!100001 ... */) runs on the server, so it is read as SQL.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view sql) : sql_(sql) {}

  std::vector<Token> All() {
    std::vector<Token> tokens;
    while (SkipSpaceAndComments()) tokens.push_back(Next());
    return tokens;
  }

 private:
  // False at the end of the text.
  bool SkipSpaceAndComments() {
    while (at_ < sql_.size()) {
      const char c = sql_[at_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++at_;
      } else if (Starts("/*!") || Starts("/*M!")) {
        at_ += Starts("/*!") ? 3 : 4;
        while (at_ < sql_.size() && std::isdigit(static_cast<unsigned char>(sql_[at_]))) ++at_;
      } else if (Starts("/*")) {
        const size_t end = sql_.find("*/", at_ + 2);
        at_ = end == std::string_view::npos ? sql_.size() : end + 2;
      } else if (Starts("*/")) {  // the end of an executable comment
        at_ += 2;
      } else if (c == '#' ||
                 (Starts("--") && (at_ + 2 == sql_.size() ||
                                   std::isspace(static_cast<unsigned char>(sql_[at_ + 2]))))) {
        const size_t end = sql_.find('\n', at_);
        at_ = end == std::string_view::npos ? sql_.size() : end + 1;
      } else {
        return true;
      }
    }
    return false;
  }

  Token Next() {
    const char c = sql_[at_];
    if (c == '`') return Quoted(Token::Type::kQuotedName, '`', /*backslash=*/false);
    // "..." is a string unless sql_mode has ANSI_QUOTES, where it is a name: where a name must
    // stand (after DROP TABLE, say) only the second reading parses, so take it as a name.
    if (c == '"') return Quoted(Token::Type::kQuotedName, '"', /*backslash=*/true);
    if (c == '\'') return Quoted(Token::Type::kString, '\'', /*backslash=*/true);
    if (IsWordChar(c)) {
      const size_t start = at_;
      while (at_ < sql_.size() && IsWordChar(sql_[at_])) ++at_;
      return Token{Token::Type::kWord, std::string(sql_.substr(start, at_ - start))};
    }
    ++at_;
    return Token{Token::Type::kPunct, std::string(1, c)};
  }

  // A quoted run; the quote doubled stands for itself, and so does a backslash-escaped
  // character where backslashes escape.
  Token Quoted(Token::Type type, char quote, bool backslash) {
    std::string text;
    ++at_;
    while (at_ < sql_.size()) {
      const char c = sql_[at_++];
      if (backslash && c == '\\' && at_ < sql_.size()) {
        text.push_back(sql_[at_++]);
      } else if (c != quote) {
        text.push_back(c);
      } else if (at_ < sql_.size() && sql_[at_] == quote) {
        text.push_back(quote);
        ++at_;
      } else {
        break;
      }
    }
    return Token{type, std::move(text)};
  }

  bool Starts(std::string_view prefix) const { return sql_.substr(at_, prefix.size()) == prefix; }

  std::string_view sql_;
  size_t at_ = 0;
};

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// ---- statements -------------------------------------------------------------------------------

// A cursor over a statement's tokens with the reads the statement shapes below need.
class Statement {
 public:
  Statement(std::string_view default_schema, std::vector<Token> tokens)
      : default_schema_(default_schema), tokens_(std::move(tokens)) {}

  bool AtEnd() const { return at_ >= tokens_.size(); }

  // True (and moves past it) when the next token is the keyword `word` (upper case).
  bool Take(std::string_view word) {
    if (!IsWord(at_, word)) return false;
    ++at_;
    return true;
  }
  bool TakePunct(char c) {
    if (AtEnd() || tokens_[at_].type != Token::Type::kPunct || tokens_[at_].text[0] != c) {
      return false;
    }
    ++at_;
    return true;
  }
  bool NextIs(std::string_view word) const { return IsWord(at_, word); }
  void Skip() { ++at_; }

  // name | name.name, either part a word or a quoted name.
  std::optional<StatementTable> TakeName() {
    if (!IsName(at_)) return std::nullopt;
    std::string first = tokens_[at_++].text;
    if (IsPunct(at_, '.') && IsName(at_ + 1)) {
      std::string second = tokens_[at_ + 1].text;
      at_ += 2;
      return StatementTable{std::move(first), std::move(second)};
    }
    return StatementTable{default_schema_, std::move(first)};
  }

  // name [, name ...]
  std::vector<StatementTable> TakeNameList() {
    std::vector<StatementTable> names;
    for (std::optional<StatementTable> name = TakeName(); name; name = TakeName()) {
      names.push_back(std::move(*name));
      if (!TakePunct(',')) break;
    }
    return names;
  }

  // Every name from here on: what statement-based DML may touch.
  std::vector<StatementTable> EveryNameLeft() {
    std::vector<StatementTable> names;
    while (!AtEnd()) {
      if (std::optional<StatementTable> name = TakeName()) {
        names.push_back(std::move(*name));
      } else {
        Skip();
      }
    }
    return names;
  }

 private:
  bool IsWord(size_t i, std::string_view word) const {
    return i < tokens_.size() && tokens_[i].type == Token::Type::kWord &&
           Upper(tokens_[i].text) == word;
  }
  bool IsPunct(size_t i, char c) const {
    return i < tokens_.size() && tokens_[i].type == Token::Type::kPunct && tokens_[i].text[0] == c;
  }
  bool IsName(size_t i) const {
    return i < tokens_.size() &&
           (tokens_[i].type == Token::Type::kWord || tokens_[i].type == Token::Type::kQuotedName);
  }

  std::string default_schema_;
  std::vector<Token> tokens_;
  size_t at_ = 0;
};

StatementEffect ChangesRows(std::string summary, std::vector<StatementTable> tables) {
  if (tables.empty()) return {};
  return {StatementEffect::Kind::kChangesRows, std::move(summary), std::move(tables)};
}

// TRUNCATE [TABLE] t
StatementEffect Truncate(Statement& s) {
  s.Take("TABLE");
  std::optional<StatementTable> table = s.TakeName();
  if (!table) return {};
  return {StatementEffect::Kind::kTruncate, "TRUNCATE", {std::move(*table)}};
}

// DROP [TEMPORARY] TABLE [IF EXISTS] t [, t ...]  |  DROP {DATABASE | SCHEMA} [IF EXISTS] db
StatementEffect Drop(Statement& s) {
  if (s.Take("DATABASE") || s.Take("SCHEMA")) {
    if (s.Take("IF")) s.Take("EXISTS");
    std::optional<StatementTable> db = s.TakeName();
    if (!db) return {};
    return ChangesRows("DROP DATABASE", {StatementTable{db->table, ""}});
  }
  if (s.Take("TEMPORARY")) return {};  // temporary tables are never replicated
  if (!s.Take("TABLE") && !s.Take("TABLES")) return {};
  if (s.Take("IF")) s.Take("EXISTS");
  return ChangesRows("DROP TABLE", s.TakeNameList());
}

// RENAME {TABLE | TABLES} a TO b [, c TO d ...]: both names of each pair, since rows leave one
// name and appear under the other.
StatementEffect Rename(Statement& s) {
  if (!s.Take("TABLE") && !s.Take("TABLES")) return {};
  std::vector<StatementTable> tables;
  do {
    std::optional<StatementTable> from = s.TakeName();
    if (s.Take("WAIT")) s.Skip();  // MariaDB: RENAME TABLE t WAIT n TO u
    s.Take("NOWAIT");
    if (!from || !s.Take("TO")) break;
    std::optional<StatementTable> to = s.TakeName();
    tables.push_back(std::move(*from));
    if (to) tables.push_back(std::move(*to));
  } while (s.TakePunct(','));
  return ChangesRows("RENAME TABLE", std::move(tables));
}

// The ALTER TABLE clauses that move rows in or out of the table with no row events.
StatementEffect AlterTable(Statement& s) {
  if (s.Take("IF")) s.Take("EXISTS");
  std::optional<StatementTable> table = s.TakeName();
  if (!table) return {};
  std::vector<StatementTable> tables = {*table};
  std::string summary;
  auto found = [&](std::string what) {
    if (summary.empty()) summary = "ALTER TABLE ... " + std::move(what);
  };
  while (!s.AtEnd()) {
    if (s.Take("RENAME")) {
      if (s.NextIs("COLUMN") || s.NextIs("INDEX") || s.NextIs("KEY") || s.NextIs("CONSTRAINT")) {
        continue;
      }
      if (!s.Take("TO")) s.Take("AS");
      if (std::optional<StatementTable> to = s.TakeName()) tables.push_back(std::move(*to));
      found("RENAME");
    } else if (s.Take("TRUNCATE") || s.Take("DROP") || s.Take("EXCHANGE") || s.Take("CONVERT")) {
      // DROP COLUMN and the like are rows' shape, not their presence.
      if (s.Take("PARTITION")) {
        found("PARTITION maintenance (TRUNCATE, DROP, EXCHANGE or CONVERT PARTITION)");
      } else if (s.Take("TABLE")) {  // CONVERT TABLE t2 TO PARTITION p
        if (std::optional<StatementTable> other = s.TakeName()) tables.push_back(*other);
        found("CONVERT TABLE ... TO PARTITION");
      }
    } else if (s.Take("WITH")) {  // EXCHANGE PARTITION p WITH TABLE t2
      if (s.Take("TABLE")) {
        if (std::optional<StatementTable> other = s.TakeName()) tables.push_back(*other);
      }
    } else if (s.Take("DISCARD") || s.Take("IMPORT")) {
      found("DISCARD/IMPORT TABLESPACE");
    } else if (s.Take("ENGINE")) {
      s.TakePunct('=');
      if (s.Take("BLACKHOLE")) found("ENGINE=BLACKHOLE");
    } else {
      s.Skip();
    }
  }
  if (summary.empty()) return {};
  return ChangesRows(std::move(summary), std::move(tables));
}

// CREATE OR REPLACE TABLE t drops the t that was there.
StatementEffect Create(Statement& s) {
  if (!s.Take("OR") || !s.Take("REPLACE")) return {};
  if (s.Take("TEMPORARY") || !s.Take("TABLE")) return {};
  std::optional<StatementTable> table = s.TakeName();
  if (!table) return {};
  return ChangesRows("CREATE OR REPLACE TABLE", {std::move(*table)});
}

}  // namespace

StatementEffect EffectOfStatement(std::string_view default_schema, std::string_view statement) {
  Statement s(default_schema, Tokenizer(statement).All());
  if (s.Take("TRUNCATE")) return Truncate(s);
  if (s.Take("DROP")) return Drop(s);
  if (s.Take("RENAME")) return Rename(s);
  if (s.Take("CREATE")) return Create(s);
  if (s.Take("ALTER")) {
    s.Take("ONLINE");
    s.Take("IGNORE");
    return s.Take("TABLE") ? AlterTable(s) : StatementEffect{};
  }
  for (const char* dml : {"INSERT", "REPLACE", "UPDATE", "DELETE", "LOAD"}) {
    if (s.Take(dml)) return ChangesRows(std::string("statement-based ") + dml, s.EveryNameLeft());
  }
  return {};
}

}  // namespace ferry::capture::mysql
