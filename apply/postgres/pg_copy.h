// The PostgreSQL sink's bulk path for copy chunks (Sink::CopyRows): rows as the lines of a
// `COPY … FROM STDIN` in text format, and the statements around it. Pure functions, no libpq,
// so that the text is unit-tested without a server.
//
// COPY cannot overwrite a row that is already there. Rows whose key the stream may have written
// before the chunk's read are first copied straight into the table all the same, under a
// savepoint: mostly none is there, and then that is all it takes. When one is (a unique
// violation), the savepoint is rolled back and the rows go into a temporary staging table shaped
// like the target's mapped columns (the same types, modifiers and domains, so that each value is
// read exactly as the target reads it, but none of its constraints), and one
// `INSERT … SELECT … ON CONFLICT (key) DO UPDATE` moves them over. Rows of a table emptied in
// the same transaction are copied straight into it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apply/postgres/pg_sql.h"
#include "apply/table_mapping.h"
#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::apply::postgres {

// Appends `text` as one field of COPY's text format: backslash, tab, newline and carriage return
// escaped with a backslash (everything else is taken as it is).
void AppendCopyField(std::string_view text, std::string* out);

// Appends `image` as one line: the values of the mapped columns (ColumnText), tab-separated,
// \N for NULL, ending in a newline. `columns` are the mapped columns' target columns, in order
// (MappedTargetColumns). Fails as BindImage does; no line is appended then.
Status AppendCopyLine(const MappedRelation& relation,
                      const std::vector<const TargetColumn*>& columns,
                      const google::protobuf::RepeatedPtrField<wire::Value>& image,
                      std::string* out);

// Appends the bound values of `row` (as an INSERT would send them) as one line: tab-separated,
// \N for NULL, ending in a newline.
void AppendBoundLine(const std::vector<BoundColumn>& row, std::string* out);

// COPY table (columns) FROM STDIN: text format, the session's client encoding (UTF8).
std::string CopyFromStdinStatement(const std::string& quoted_table,
                                   const std::vector<std::string>& columns);

// The staging table `stage` (a bare name, created in pg_temp) for rows of `columns` of `target`.
std::string CreateStageStatement(const std::string& stage, const TargetTable& target,
                                 const std::vector<std::string>& columns);

// `stage` as statements name it: pg_temp."stage", never a table of the search path.
std::string QuotedStage(const std::string& stage);

// INSERT INTO target (columns) SELECT columns FROM stage ON CONFLICT (arbiter) DO UPDATE SET
// each column outside the arbiter to the staged value (DO NOTHING when there is none).
std::string MergeStageStatement(const TargetTable& target, const std::string& stage,
                                const std::vector<std::string>& columns,
                                const std::vector<std::string>& arbiter);

}  // namespace ferry::apply::postgres
