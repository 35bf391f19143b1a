#include "capture/mysql/inspect.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "capture/mysql/binlog_decoder.h"
#include "common/json_text.h"
#include "wire/position.h"

namespace ferry::capture::mysql {
namespace {

constexpr uint8_t kFormatDescriptionEvent = 15;

// The FORMAT_DESCRIPTION_EVENT's server version (50 bytes after the 2-byte binlog version) tells
// MariaDB from MySQL; a file that does not start with one is treated as MySQL.
std::string EngineOf(std::string_view first_event) {
  constexpr size_t kVersionOffset = 19 + 2, kVersionSize = 50;
  if (first_event.size() < kVersionOffset + kVersionSize ||
      static_cast<uint8_t>(first_event[4]) != kFormatDescriptionEvent) {
    return wire::kEngineMySql;
  }
  const std::string_view version = first_event.substr(kVersionOffset, kVersionSize);
  return version.find("MariaDB") != std::string_view::npos ? wire::kEngineMariaDb
                                                           : wire::kEngineMySql;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status PrintMessage(const char* key, const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return Status::Error(std::string("cannot print a ") + key +
                         " record as JSON: " + std::string(status.message()));
  }
  out << "{\"" << key << "\": " << json << "}\n";
  return Status::Ok();
}

Status Print(const DecodedEvent& event, std::ostream& out) {
  if (const Ddl* ddl = std::get_if<Ddl>(&event)) {
    std::string line = "{\"ddl\": {\"schema\": ";
    AppendJsonString(ddl->schema, &line, InvalidUtf8::kReplace);
    line += ", \"statement\": ";
    AppendJsonString(ddl->statement, &line, InvalidUtf8::kReplace);
    line += "}}\n";
    out << line;
    return Status::Ok();
  }
  const SourceEvent& source = std::get<SourceEvent>(event);
  if (auto* begin = std::get_if<wire::Begin>(&source)) return PrintMessage("begin", *begin, out);
  if (auto* relation = std::get_if<wire::Relation>(&source)) {
    return PrintMessage("relation", *relation, out);
  }
  if (auto* row = std::get_if<wire::RowChange>(&source)) return PrintMessage("row", *row, out);
  if (auto* commit = std::get_if<wire::Commit>(&source))
    return PrintMessage("commit", *commit, out);
  return Status::Ok();  // heartbeats: not in files
}

// A file has no server beside it to ask what a TABLE_MAP leaves out (binlog_row_metadata not
// FULL): say so once per table, so that nobody takes a signed reading of an UNSIGNED column, or
// an ENUM's member number, for the value.
class MissingMetadataNotes {
 public:
  explicit MissingMetadataNotes(std::ostream& out) : out_(out) {}

  Result<const CatalogTable*> operator()(const TableMap& table) {
    const std::string name = "`" + table.schema + "`.`" + table.table + "`";
    if (noted_.insert(name).second) {
      std::string line = "{\"note\": ";
      AppendJsonString("table " + name +
                           ": the binlog does not log its column names, UNSIGNED flags, charsets "
                           "or ENUM/SET members (binlog_row_metadata is not FULL), and a file "
                           "has no server to ask: integers read as signed, ENUM and SET as "
                           "member numbers, text of unknown charset as UTF-8 or bytes",
                       &line, InvalidUtf8::kReplace);
      out_ << line << "}\n";
    }
    return nullptr;
  }

 private:
  std::ostream& out_;
  std::set<std::string> noted_;
};

Status Inspect(const std::string& path, std::ostream& out) {
  std::unique_ptr<BinlogDecoder> decoder;
  MissingMetadataNotes notes(out);
  return ReadBinlogFile(path, [&](std::string_view event) -> Status {
    if (!decoder) {
      DecoderOptions options;
      options.engine = EngineOf(event);
      options.file = BaseName(path);
      options.catalog = std::ref(notes);
      decoder = std::make_unique<BinlogDecoder>(std::move(options));
    }
    return decoder->DecodeTo(event, [&out](DecodedEvent&& decoded) { return Print(decoded, out); });
  });
}

}  // namespace

int InspectBinlog(const std::string& path, std::ostream& out, std::ostream& err) {
  Status status = Status::Ok();
  try {
    status = Inspect(path, out);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: reported, never thrown on
    status = Status::Error("inspecting " + path + " failed: " + e.what());
  }
  out.flush();
  if (status.ok()) return 0;
  err << "ferry inspect binlog: " << status.message() << "\n";
  return 1;
}

}  // namespace ferry::capture::mysql
