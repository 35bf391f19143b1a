// Builders of change records for tests: typed values, relations, row changes and Begins, so a
// test reads as the records it sends (Insert(1, {Int(7), Text("a")})) rather than as protobuf
// setters. For tests only; the product builds its records in the capture adapters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wire/ferry.pb.h"

namespace ferry::wire::testing {

inline Value Int(int64_t i) {
  Value v;
  v.set_int64(i);
  return v;
}

inline Value Uint(uint64_t u) {
  Value v;
  v.set_uint64(u);
  return v;
}

inline Value Bool(bool b) {
  Value v;
  v.set_boolean(b);
  return v;
}

inline Value Float(double d) {
  Value v;
  v.set_float64(d);
  return v;
}

inline Value Text(const std::string& s) {
  Value v;
  v.set_text(s);
  return v;
}

inline Value Bytes(const std::string& s) {
  Value v;
  v.set_bytes(s);
  return v;
}

inline Value Dec(const std::string& s) {
  Value v;
  v.set_decimal(s);
  return v;
}

inline Value Bits(const std::string& s) {
  Value v;
  v.set_bits(s);
  return v;
}

inline Value Null() {
  Value v;
  v.mutable_null();
  return v;
}

inline Value Unchanged() {
  Value v;
  v.mutable_unchanged();
  return v;
}

// A value of one of the string-carrying kinds, e.g. Str(&Value::set_date, "2024-02-29").
inline Value Str(void (Value::*setter)(const std::string&), const std::string& s) {
  Value v;
  (v.*setter)(s);
  return v;
}

inline Value Array(const std::vector<Value>& elements) {
  Value v;
  v.mutable_array();
  for (const Value& e : elements) *v.mutable_array()->add_elements() = e;
  return v;
}

// One column of MakeRelation.
struct Col {
  std::string name;
  LogicalType type = LOGICAL_TYPE_TEXT;
  bool key = false;
};

// With a full old image every column is flagged key, as PostgreSQL's REPLICA IDENTITY FULL does.
inline Relation MakeRelation(uint32_t id, const std::string& schema, const std::string& table,
                             const std::vector<Col>& columns, bool full_old_image = false) {
  Relation relation;
  relation.set_id(id);
  relation.set_schema(schema);
  relation.set_table(table);
  relation.set_full_old_image(full_old_image);
  for (const Col& col : columns) {
    Column* column = relation.add_columns();
    column->set_name(col.name);
    column->set_type(col.type);
    column->set_key(col.key || full_old_image);
  }
  return relation;
}

inline RowChange Insert(uint32_t relation, const std::vector<Value>& values) {
  RowChange change;
  change.set_op(RowChange::INSERT);
  change.set_relation_id(relation);
  for (const Value& v : values) *change.add_new_values() = v;
  return change;
}

// `old_values` empty = the source sent no old image (key unchanged).
inline RowChange Update(uint32_t relation, const std::vector<Value>& old_values,
                        const std::vector<Value>& new_values, bool old_is_key_only = true) {
  RowChange change;
  change.set_op(RowChange::UPDATE);
  change.set_relation_id(relation);
  for (const Value& v : old_values) *change.add_old_values() = v;
  change.set_old_is_key_only(old_is_key_only);
  for (const Value& v : new_values) *change.add_new_values() = v;
  return change;
}

inline RowChange Delete(uint32_t relation, const std::vector<Value>& old_values,
                        bool old_is_key_only = true) {
  RowChange change;
  change.set_op(RowChange::DELETE);
  change.set_relation_id(relation);
  for (const Value& v : old_values) *change.add_old_values() = v;
  change.set_old_is_key_only(old_is_key_only);
  return change;
}

inline RowChange Truncate(uint32_t relation, bool cascade, bool restart_identity) {
  RowChange change;
  change.set_op(RowChange::TRUNCATE);
  change.set_relation_id(relation);
  change.set_cascade(cascade);
  change.set_restart_identity(restart_identity);
  return change;
}

// One TRUNCATE of several relations, as pgoutput sends `TRUNCATE a, b`.
inline RowChange TruncateAll(const std::vector<uint32_t>& relations, bool cascade,
                             bool restart_identity) {
  RowChange change = Truncate(relations.front(), cascade, restart_identity);
  for (uint32_t relation : relations) change.add_truncate_relation_ids(relation);
  return change;
}

inline Begin BeginAt(const std::string& engine, const std::string& position,
                     int64_t commit_time_us = 1709207110123456, const std::string& origin = "") {
  Begin begin;
  begin.mutable_position()->set_engine(engine);
  begin.mutable_position()->set_value(position);
  begin.set_commit_time_us(commit_time_us);
  begin.set_origin(origin);
  return begin;
}

}  // namespace ferry::wire::testing
