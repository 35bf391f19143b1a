#include "apply/target_allow_list.h"

#include <algorithm>
#include <cctype>

namespace ferry::apply {
namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

bool TargetAllowList::IsReservedSchema(const std::string& target_engine,
                                       const std::string& schema) {
  const std::string lower = Lower(schema);
  if (lower == "ferry_meta" || lower == "information_schema") return true;
  if (target_engine == "postgres") {
    return lower == "pg_catalog" || lower == "pg_toast" || StartsWith(lower, "pg_temp_") ||
           StartsWith(lower, "pg_toast_temp_");
  }
  if (target_engine == "mariadb" || target_engine == "mysql") {
    return lower == "mysql" || lower == "performance_schema" || lower == "sys";
  }
  return false;
}

TargetAllowList::TargetAllowList(std::string target_engine,
                                 const std::vector<std::string>& patterns,
                                 const std::vector<std::string>& mapped_targets)
    : engine_(std::move(target_engine)), everything_(patterns.empty()) {
  for (const std::string& pattern : patterns) {
    const size_t dot = pattern.find('.');
    if (dot != std::string::npos && pattern.substr(dot + 1) == "*") {
      schemas_.insert(pattern.substr(0, dot));
    } else {
      tables_.insert(pattern);
    }
  }
  tables_.insert(mapped_targets.begin(), mapped_targets.end());
}

Status TargetAllowList::Check(const std::string& schema, const std::string& table) const {
  const std::string name = schema + "." + table;
  if (IsReservedSchema(engine_, schema)) {
    return Status::Error("the stream names " + name + ", in " + schema +
                         ", which Ferry never writes from a stream (its own bookkeeping or the "
                         "database's system schema); nothing was written. Remove it from the "
                         "capture agent's tables (or publication), or map it to another target "
                         "table in the apply config's mappings:");
  }
  if (everything_ || schemas_.count(schema) > 0 || tables_.count(name) > 0) return Status::Ok();
  return Status::Error("the stream names " + name +
                       ", which is not in this apply agent's tables: (the target tables it may "
                       "write); nothing was written. Add it there, or stop replicating it on the "
                       "capture side");
}

std::string TargetAllowList::Describe() const {
  if (everything_) return "every table outside ferry_meta and the system schemas";
  std::string out;
  for (const std::string& schema : schemas_) out += (out.empty() ? "" : ", ") + schema + ".*";
  for (const std::string& table : tables_) out += (out.empty() ? "" : ", ") + table;
  return out;
}

}  // namespace ferry::apply
