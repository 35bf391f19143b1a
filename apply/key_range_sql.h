// The WHERE condition of a re-copy's range delete (Sink::DeleteCopyRange), the same SQL on every
// engine Ferry writes to: row-value comparisons, which PostgreSQL and MySQL/MariaDB both order
// column by column, as the source's chunks are ordered. Engines differ only in how a value is
// written into the statement (a typed `$n` or a `?`), which the caller supplies.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ferry::apply {

// "(a, b) > (v, v) AND (a, b) <= (v, v) AND (a, b) NOT IN ((v, v), (v, v))", each part only
// when given; "" when none is. `quote` spells a column name, `value` writes one bound column's
// value (recording it as a parameter). Key values are never NULL (a key column is NOT NULL), so
// NOT IN means what it says.
template <typename Column>
std::string KeyRangeCondition(const std::optional<std::vector<Column>>& after,
                              const std::optional<std::vector<Column>>& upto,
                              const std::vector<std::vector<Column>>& keep,
                              const std::function<std::string(const std::string&)>& quote,
                              const std::function<std::string(const Column&)>& value) {
  const std::vector<Column>* shape = after          ? &*after
                                     : upto         ? &*upto
                                     : keep.empty() ? nullptr
                                                    : &keep.front();
  if (shape == nullptr) return "";
  std::string columns = "(";
  for (size_t i = 0; i < shape->size(); ++i) {
    columns += (i > 0 ? ", " : "") + quote((*shape)[i].name);
  }
  columns += ")";
  auto values = [&](const std::vector<Column>& key) {
    std::string text = "(";
    for (size_t i = 0; i < key.size(); ++i) text += (i > 0 ? ", " : "") + value(key[i]);
    return text + ")";
  };
  std::string condition;
  auto add = [&](const std::string& part) {
    condition += (condition.empty() ? "" : " AND ") + part;
  };
  if (after) add(columns + " > " + values(*after));
  if (upto) add(columns + " <= " + values(*upto));
  if (!keep.empty()) {
    std::string list;
    for (const std::vector<Column>& key : keep) list += (list.empty() ? "" : ", ") + values(key);
    add(columns + " NOT IN (" + list + ")");
  }
  return condition;
}

// "DELETE FROM `table` [WHERE KeyRangeCondition(...)]"; `table` is already quoted.
template <typename Column>
std::string KeyRangeDeleteSql(const std::string& table,
                              const std::optional<std::vector<Column>>& after,
                              const std::optional<std::vector<Column>>& upto,
                              const std::vector<std::vector<Column>>& keep,
                              const std::function<std::string(const std::string&)>& quote,
                              const std::function<std::string(const Column&)>& value) {
  const std::string condition = KeyRangeCondition<Column>(after, upto, keep, quote, value);
  return "DELETE FROM " + table + (condition.empty() ? "" : " WHERE " + condition);
}

}  // namespace ferry::apply
