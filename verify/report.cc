// What `ferry verify` prints: text for people, one JSON document for programs.
#include <cmath>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "verify/verify.h"

namespace ferry::verify {
namespace {

uint64_t SourceRows(const VerifyReport& report) {
  uint64_t rows = 0;
  for (const TableReport& table : report.tables) rows += table.source_rows;
  return rows;
}

double RowsPerSecond(uint64_t rows, double seconds) { return seconds > 0 ? rows / seconds : 0; }

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string TableTitle(const TableReport& table) {
  if (table.target_table.empty() || table.target_table == table.source_table) {
    return table.source_table;
  }
  return table.source_table + " -> " + table.target_table;
}

std::string KeyLine(const ListedDifference& difference) {
  std::string line;
  for (const auto& [name, value] : difference.key) {
    line += (line.empty() ? "" : ", ") + name + "=" + DisplayText(value);
  }
  if (!difference.columns.empty()) {
    line += "  columns:";
    for (size_t i = 0; i < difference.columns.size(); ++i) {
      line += (i > 0 ? ", " : " ") + difference.columns[i];
    }
  }
  return line;
}

void AppendList(const std::string& title, const DifferenceList& list, std::string& out) {
  if (list.count == 0) return;
  out += "  " + title + ": " + std::to_string(list.count) + "\n";
  for (const ListedDifference& difference : list.listed) out += "    " + KeyLine(difference) + "\n";
  if (list.count > list.listed.size()) {
    out += "    ... and " + std::to_string(list.count - list.listed.size()) + " more\n";
  }
}

void AppendRecheck(const TableReport& table, const VerifyOptions& options, std::string& out) {
  if (table.equal()) return;
  const std::string delay = std::to_string(options.recheck_delay.count()) + " ms";
  if (table.recheck_rounds == 1) {
    out += "  still different when re-checked " + delay + " later\n";
  } else if (table.recheck_rounds > 1) {
    out += "  still different after " + std::to_string(table.recheck_rounds) + " re-checks, " +
           delay + " apart\n";
  } else {
    out += "  not re-checked (--recheck-rounds 0)\n";
  }
  if (table.not_rechecked > 0) {
    out += "  " + std::to_string(table.not_rechecked) + " differences beyond the first " +
           std::to_string(options.rechecked_keys) + " were counted but not re-checked\n";
  }
}

void AppendTable(const TableReport& table, const VerifyOptions& options, std::string& out) {
  if (!table.error.empty()) {
    out += TableTitle(table) + ": error: " + table.error + "\n";
    return;
  }
  out += TableTitle(table) + ": " + std::to_string(table.source_rows) + " rows compared, " +
         std::to_string(table.missing.count) + " missing, " + std::to_string(table.extra.count) +
         " extra, " + std::to_string(table.differing.count) + " differing\n";
  AppendList("missing on the target", table.missing, out);
  AppendList("extra on the target", table.extra, out);
  AppendList("differing", table.differing, out);
  AppendRecheck(table, options, out);
}

std::string Summary(const VerifyReport& report) {
  size_t equal = 0, differ = 0, failed = 0;
  for (const TableReport& table : report.tables) {
    if (!table.error.empty()) {
      ++failed;
    } else if (table.equal()) {
      ++equal;
    } else {
      ++differ;
    }
  }
  const uint64_t rows = SourceRows(report);
  std::string out = "verify: " + std::to_string(report.tables.size()) + " table" +
                    (report.tables.size() == 1 ? "" : "s") + ", " + std::to_string(rows) +
                    " source rows in " + Fixed(report.seconds, 1) + " s (" +
                    Fixed(RowsPerSecond(rows, report.seconds), 0) +
                    " rows/s): " + std::to_string(equal) + " equal, " + std::to_string(differ) +
                    " differ, " + std::to_string(failed) + " failed";
  switch (report.ExitCode()) {
    case 0:
      return out + "; source and target agree\n";
    case 1:
      return out + "; source and target differ\n";
    default:
      return out + "; some tables could not be verified\n";
  }
}

nlohmann::json KeyJson(const std::vector<std::pair<std::string, wire::Value>>& key) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : key) {
    if (value.has_null()) {
      object[name] = nullptr;
    } else if (value.has_int64()) {
      object[name] = value.int64();
    } else if (value.has_uint64()) {
      object[name] = value.uint64();
    } else if (value.has_boolean()) {
      object[name] = value.boolean();
    } else {
      object[name] = ValueText(value);
    }
  }
  return object;
}

nlohmann::json ListJson(const DifferenceList& list) {
  nlohmann::json listed = nlohmann::json::array();
  for (const ListedDifference& difference : list.listed) {
    nlohmann::json item = {{"key", KeyJson(difference.key)}};
    if (!difference.columns.empty()) item["columns"] = difference.columns;
    listed.push_back(std::move(item));
  }
  return {{"count", list.count}, {"listed", std::move(listed)}};
}

nlohmann::json TableJson(const TableReport& table, const VerifyOptions& options) {
  nlohmann::json json = {{"source", table.source_table}, {"target", table.target_table}};
  if (!table.error.empty()) {
    json["status"] = "error";
    json["error"] = table.error;
    return json;
  }
  json["status"] = table.equal() ? "equal" : "differ";
  json["source_rows"] = table.source_rows;
  json["target_rows"] = table.target_rows;
  json["missing"] = ListJson(table.missing);
  json["extra"] = ListJson(table.extra);
  json["differing"] = ListJson(table.differing);
  json["recheck"] = {{"rounds", table.recheck_rounds},
                     {"delay_ms", options.recheck_delay.count()},
                     {"not_rechecked", table.not_rechecked}};
  json["checksum_chunks"] = table.checksum_chunks;
  json["chunks_read_row_by_row"] = table.chunks_read_row_by_row;
  json["seconds"] = table.seconds;
  return json;
}

}  // namespace

int VerifyReport::ExitCode() const {
  if (!error.empty() || tables.empty()) return 2;
  bool differ = false;
  for (const TableReport& table : tables) {
    if (!table.error.empty()) return 2;
    differ |= !table.equal();
  }
  return differ ? 1 : 0;
}

std::string TextReport(const VerifyReport& report) {
  if (!report.error.empty()) return "verify: error: " + report.error + "\n";
  std::string out;
  for (const TableReport& table : report.tables) AppendTable(table, report.options, out);
  return out + Summary(report);
}

std::string JsonReport(const VerifyReport& report) {
  nlohmann::json json;
  json["exit_code"] = report.ExitCode();
  json["equal"] = report.ExitCode() == 0;
  if (!report.error.empty()) json["error"] = report.error;
  json["options"] = {{"chunk_rows", report.options.chunk_rows},
                     {"recheck_delay_ms", report.options.recheck_delay.count()},
                     {"recheck_rounds", report.options.recheck_rounds}};
  nlohmann::json tables = nlohmann::json::array();
  for (const TableReport& table : report.tables) tables.push_back(TableJson(table, report.options));
  json["tables"] = std::move(tables);
  const uint64_t rows = SourceRows(report);
  json["source_rows"] = rows;
  json["seconds"] = report.seconds;
  json["rows_per_second"] = std::round(RowsPerSecond(rows, report.seconds));
  try {
    return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } catch (const std::exception&) {
    return "{\"exit_code\": 2, \"error\": \"cannot write the report as JSON\"}\n";
  }
}

}  // namespace ferry::verify
