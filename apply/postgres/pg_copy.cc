#include "apply/postgres/pg_copy.h"

#include <algorithm>

#include "apply/postgres/pg_text.h"
#include "apply/sink_text.h"

namespace ferry::apply::postgres {

namespace {

bool NeedsEscape(char c) { return c == '\\' || c == '\t' || c == '\n' || c == '\r'; }

// Escapes, in place, the field that starts at `out[from]`; most fields need nothing.
// (std::string::find_first_of would call memchr once per character.)
void EscapeCopyField(size_t from, std::string* out) {
  if (std::none_of(out->begin() + static_cast<std::ptrdiff_t>(from), out->end(), NeedsEscape)) {
    return;
  }
  const std::string field = out->substr(from);
  out->resize(from);
  AppendCopyField(field, out);
}

}  // namespace

void AppendCopyField(std::string_view text, std::string* out) {
  // Runs without a character to escape are appended whole.
  size_t from = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char escaped = 0;
    switch (text[i]) {
      case '\\':
        escaped = '\\';
        break;
      case '\t':
        escaped = 't';
        break;
      case '\n':
        escaped = 'n';
        break;
      case '\r':
        escaped = 'r';
        break;
      default:
        continue;
    }
    out->append(text.substr(from, i - from));
    out->push_back('\\');
    out->push_back(escaped);
    from = i + 1;
  }
  out->append(text.substr(from));
}

Status AppendCopyLine(const MappedRelation& relation,
                      const std::vector<const TargetColumn*>& columns,
                      const google::protobuf::RepeatedPtrField<wire::Value>& image,
                      std::string* out) {
  FERRY_RETURN_IF_ERROR(CheckImageSize(relation, image.size()));
  const size_t start = out->size();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out->push_back('\t');
    const MappedColumn& column = relation.columns[i];
    const wire::Value& value = image.Get(column.source_index);
    if (value.has_null()) {
      out->append("\\N");
      continue;
    }
    // Written straight into the line, escaped there only if it needs it.
    const size_t field = out->size();
    Status appended = AppendColumnText(relation, column, *columns[i], value, out);
    if (!appended.ok()) {
      out->resize(start);
      return appended;
    }
    EscapeCopyField(field, out);
  }
  out->push_back('\n');
  return Status::Ok();
}

void AppendBoundLine(const std::vector<BoundColumn>& row, std::string* out) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out->push_back('\t');
    if (row[i].value) {
      AppendCopyField(*row[i].value, out);
    } else {
      out->append("\\N");
    }
  }
  out->push_back('\n');
}

std::string CopyFromStdinStatement(const std::string& quoted_table,
                                   const std::vector<std::string>& columns) {
  return "COPY " + quoted_table + " (" + JoinQuoted(columns) + ") FROM STDIN";
}

std::string QuotedStage(const std::string& stage) { return "pg_temp." + QuoteIdent(stage); }

std::string CreateStageStatement(const std::string& stage, const TargetTable& target,
                                 const std::vector<std::string>& columns) {
  return "CREATE TEMPORARY TABLE " + QuoteIdent(stage) + " AS SELECT " + JoinQuoted(columns) +
         " FROM " + target.quoted() + " WITH NO DATA";
}

std::string MergeStageStatement(const TargetTable& target, const std::string& stage,
                                const std::vector<std::string>& columns,
                                const std::vector<std::string>& arbiter) {
  std::string set;
  for (const std::string& column : columns) {
    if (std::find(arbiter.begin(), arbiter.end(), column) != arbiter.end()) continue;
    set += (set.empty() ? "" : ", ") + QuoteIdent(column) + " = EXCLUDED." + QuoteIdent(column);
  }
  const std::string names = JoinQuoted(columns);
  return "INSERT INTO " + target.quoted() + " (" + names + ") SELECT " + names + " FROM " +
         QuotedStage(stage) + " ON CONFLICT (" + JoinQuoted(arbiter) + ") DO " +
         (set.empty() ? "NOTHING" : "UPDATE SET " + set);
}

}  // namespace ferry::apply::postgres
